from odoo import fields, models
from odoo.exceptions import UserError

from .fan_import import REVIEW_FIELDS


class FanImportLine(models.Model):
    _name = "fan.import.line"
    _description = "Fan Import Result"
    _order = "import_id, row"

    import_id = fields.Many2one(
        comodel_name="fan.import", required=True, ondelete="cascade", index=True
    )
    row = fields.Integer()
    status = fields.Selection(
        [
            ("created", "Created"),
            ("updated", "Matched Existing"),
            ("duplicate", "Duplicate in File"),
            ("review", "To Review"),
            ("error", "Error"),
        ],
        required=True,
    )
    value = fields.Char(string="Email or Mobile")
    partner_id = fields.Many2one(comodel_name="res.partner", ondelete="set null")
    message = fields.Char()
    candidate_partner_ids = fields.Many2many(
        comodel_name="res.partner",
        string="Possible Matches",
        help="Existing contacts this row matches; choose one or create a new contact.",
    )
    name = fields.Char()
    email = fields.Char()
    phone = fields.Char()
    city = fields.Char()
    weibo = fields.Char()
    tags = fields.Char()
    other_identities = fields.Char(
        string="Other Emails and Mobiles",
        help="Further emails and mobiles of the person, from the same cell or from later rows "
        "of the same person, separated by commas.",
    )

    def _get_record(self):
        self.ensure_one()
        record = {field: self[field] or "" for field in REVIEW_FIELDS}
        others = [value.strip() for value in (self.other_identities or "").split(",")]
        return dict(record, row=self.row, warning="", others=list(filter(None, others)))

    def _resolve(self, partner):
        self.ensure_one()
        if self.status != "review":
            raise UserError(self.env._("Row %(row)s has already been resolved.", row=self.row))
        fan_import = self.import_id
        result = fan_import._apply_record(
            self._get_record(), partner, fan_import._get_file_attachment()
        )
        self.write(dict(result, candidate_partner_ids=[fields.Command.clear()]))
        fan_import.write(
            {
                "review_count": fan_import.review_count - 1,
                "created_count": fan_import.created_count + (result["status"] == "created"),
                "updated_count": fan_import.updated_count + (result["status"] == "updated"),
            }
        )

    def action_review_create(self):
        """Import the row as a new contact, next to the contacts it matched."""
        for line in self:
            line._resolve(self.env["res.partner"])
        return True
