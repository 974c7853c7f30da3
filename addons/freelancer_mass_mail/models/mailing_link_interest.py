from odoo import fields, models


class MailingLinkInterest(models.Model):
    """Rule of a mailing: a click on a link starting with ``url`` adds ``tag_id`` to the fan."""

    _name = "mailing.link.interest"
    _description = "Mailing Link Interest Rule"
    _order = "mailing_id, sequence, id"

    mailing_id = fields.Many2one(
        comodel_name="mailing.mailing", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    url = fields.Char(
        string="Link Starts With",
        required=True,
        help="Links of the mailing whose address starts with this text, "
        "for example https://example.com/courses/pottery.",
    )
    tag_id = fields.Many2one(
        comodel_name="res.partner.category",
        string="Interest Tag",
        required=True,
        ondelete="cascade",
    )

    def _match_url(self, url):
        """Return the tag of the first rule whose prefix starts ``url``, or an empty tag."""
        for rule in self:
            if url.startswith(rule.url.strip()):
                return rule.tag_id
        return self.env["res.partner.category"]
