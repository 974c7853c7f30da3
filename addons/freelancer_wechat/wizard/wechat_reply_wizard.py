from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

# WeChat accepts customer-service messages to a follower for 48 hours after the
# follower's last message or event, and at most 5 of them in that window.
REPLY_WINDOW_HOURS = 48
MAX_REPLIES_PER_WINDOW = 5


class WechatReplyWizard(models.TransientModel):
    _name = "wechat.reply.wizard"
    _description = "WeChat Customer-Service Reply"

    account_id = fields.Many2one(
        comodel_name="wechat.account", string="Official Account", required=True
    )
    partner_id = fields.Many2one(comodel_name="res.partner", string="Fan")
    openid = fields.Char(string="OpenID", required=True)
    message_id = fields.Many2one(comodel_name="wechat.message", string="Replying To")
    content = fields.Text(string="Reply", required=True)
    last_message_time = fields.Datetime(
        string="Last Message From Fan", compute="_compute_last_message_time"
    )

    @api.depends("account_id", "openid")
    def _compute_last_message_time(self):
        for wizard in self:
            wizard.last_message_time = wizard._last_incoming().create_time

    def _last_incoming(self):
        self.ensure_one()
        if not self.account_id or not self.openid:
            return self.env["wechat.message"]
        return self.env["wechat.message"].search(
            [
                ("account_id", "=", self.account_id.id),
                ("openid", "=", self.openid),
                ("direction", "=", "in"),
                ("event", "!=", "unsubscribe"),
            ],
            order="create_time desc, id desc",
            limit=1,
        )

    def _check_reply_window(self):
        """Raise UserError unless WeChat accepts a customer-service message now."""
        self.ensure_one()
        last = self._last_incoming()
        now = fields.Datetime.now()
        if not last:
            raise UserError(
                self.env._(
                    "You cannot reply to this fan on WeChat: the fan has not written to this "
                    "Official Account, and WeChat only accepts customer-service messages within "
                    "%(hours)s hours after a fan's message. Reach them through another channel.",
                    hours=REPLY_WINDOW_HOURS,
                )
            )
        if last.create_time < now - timedelta(hours=REPLY_WINDOW_HOURS):
            raise UserError(
                self.env._(
                    "You cannot reply to this fan on WeChat now: WeChat only accepts "
                    "customer-service messages within %(hours)s hours after the fan's last "
                    "message, and the last one arrived %(when)s. Wait until the fan writes "
                    "again, or reach them through another channel.",
                    hours=REPLY_WINDOW_HOURS,
                    when=fields.Datetime.to_string(last.create_time),
                )
            )
        sent = self.env["wechat.message"].search_count(
            [
                ("account_id", "=", self.account_id.id),
                ("openid", "=", self.openid),
                ("direction", "=", "out"),
                ("is_customer_service", "=", True),
                ("create_time", ">=", last.create_time),
            ]
        )
        if sent >= MAX_REPLIES_PER_WINDOW:
            raise UserError(
                self.env._(
                    "You already sent %(count)s replies since the fan's last message, the "
                    "maximum WeChat accepts. Wait until the fan writes again.",
                    count=sent,
                )
            )

    def action_send(self):
        self.ensure_one()
        if not (self.content or "").strip():
            raise UserError(self.env._("Write the reply before sending it."))
        self._check_reply_window()
        account = self.account_id
        account._wechat_call(
            lambda client: client.message.send_text(self.openid, self.content),
            self.env._("Customer-service reply"),
        )
        partner = self.partner_id or self.message_id.partner_id
        # sudo: the message log is written by code only, and user_id keeps the sender.
        self.env["wechat.message"].sudo().create(
            {
                "account_id": account.id,
                "partner_id": partner.id,
                "openid": self.openid,
                "direction": "out",
                "msg_type": "text",
                "content": self.content,
                "create_time": fields.Datetime.now(),
                "is_customer_service": True,
                "user_id": self.env.user.id,
            }
        )
        return {"type": "ir.actions.act_window_close"}
