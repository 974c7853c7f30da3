from odoo import api, fields, models
from odoo.exceptions import ValidationError

# WeChat custom menu limits: 3 top-level buttons with 5 sub-buttons each.
# A name has at most 16 bytes at the top level and 60 bytes below (about 5 and
# 20 Chinese characters), and a CLICK key at most 128 bytes.
MAX_TOP_BUTTONS = 3
MAX_SUB_BUTTONS = 5
MAX_TOP_NAME_BYTES = 16
MAX_SUB_NAME_BYTES = 60
MAX_KEY_BYTES = 128


class WechatMenuButton(models.Model):
    _name = "wechat.menu.button"
    _description = "WeChat Menu Button"
    _order = "sequence, id"
    _parent_store = True

    account_id = fields.Many2one(
        comodel_name="wechat.account",
        string="Official Account",
        required=True,
        ondelete="cascade",
        index=True,
    )
    parent_id = fields.Many2one(
        comodel_name="wechat.menu.button",
        string="Parent Button",
        ondelete="cascade",
        index=True,
        domain="[('account_id', '=', account_id), ('parent_id', '=', False)]",
    )
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many(
        comodel_name="wechat.menu.button", inverse_name="parent_id", string="Sub-Buttons"
    )
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True)
    button_type = fields.Selection(
        [("click", "Send Key (CLICK)"), ("view", "Open Web Page (VIEW)")],
        string="Action",
        default="click",
        help="A top-level button with sub-buttons has no action of its own.",
    )
    key = fields.Char(
        help="Sent to Odoo in the CLICK event; each click is logged as a menu interaction "
        "on the fan."
    )
    url = fields.Char(string="URL")

    @api.constrains("account_id", "parent_id")
    def _check_button_count(self):
        for button in self:
            siblings = self.search_count(
                [("account_id", "=", button.account_id.id), ("parent_id", "=", button.parent_id.id)]
            )
            if button.parent_id and button.parent_id.parent_id:
                raise ValidationError(
                    self.env._("WeChat menus have two levels: a sub-button cannot have children.")
                )
            if not button.parent_id and siblings > MAX_TOP_BUTTONS:
                raise ValidationError(
                    self.env._(
                        "A WeChat menu has at most %(max)s top-level buttons.", max=MAX_TOP_BUTTONS
                    )
                )
            if button.parent_id and siblings > MAX_SUB_BUTTONS:
                raise ValidationError(
                    self.env._(
                        "The button “%(parent)s” can have at most %(max)s sub-buttons.",
                        parent=button.parent_id.name,
                        max=MAX_SUB_BUTTONS,
                    )
                )

    @api.constrains("name", "parent_id", "key", "url", "button_type")
    def _check_fields(self):
        for button in self:
            limit = MAX_SUB_NAME_BYTES if button.parent_id else MAX_TOP_NAME_BYTES
            if len(button.name.encode("utf-8")) > limit:
                raise ValidationError(
                    self.env._(
                        "The menu name “%(name)s” is too long: WeChat allows %(max)s bytes "
                        "(a Chinese character takes 3).",
                        name=button.name,
                        max=limit,
                    )
                )
            if button.button_type == "click" and button.key:
                if len(button.key.encode("utf-8")) > MAX_KEY_BYTES:
                    raise ValidationError(
                        self.env._(
                            "The key of “%(name)s” is longer than 128 bytes.", name=button.name
                        )
                    )

    def _to_wechat(self):
        """Return the button as a dict of the menu/create payload."""
        self.ensure_one()
        if self.child_ids:
            return {
                "name": self.name,
                "sub_button": [child._to_wechat() for child in self.child_ids],
            }
        if self.button_type == "view":
            if not self.url:
                raise ValidationError(
                    self.env._(
                        "The button “%(name)s” opens a web page but has no URL.", name=self.name
                    )
                )
            return {"type": "view", "name": self.name, "url": self.url}
        if not self.key:
            raise ValidationError(
                self.env._("The button “%(name)s” sends a key but has none.", name=self.name)
            )
        return {"type": "click", "name": self.name, "key": self.key}
