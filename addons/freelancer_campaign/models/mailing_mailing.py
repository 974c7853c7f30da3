from odoo import fields, models
from odoo.fields import Domain


class MailingMailing(models.Model):
    _inherit = "mailing.mailing"

    fan_campaign_id = fields.Many2one(
        comodel_name="fan.campaign",
        string="Cross-Channel Campaign",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
    )

    def _get_recipients_domain(self):
        """Keep only the fans the campaign assigned to this mailing.

        Before sending, those are the planned fans of the mailing's channel
        that no mailing has yet. A fan whose message failed and was retried
        is assigned to the retry's mailing, so sending this mailing again
        never reaches them twice.
        """
        domain = super()._get_recipients_domain()
        if not self.fan_campaign_id:
            return domain
        channel = "sms" if self.mailing_type == "sms" else "email"
        partners = self.fan_campaign_id.recipient_ids.filtered(
            lambda recipient: (
                recipient.mailing_id == self
                or (
                    not recipient.mailing_id
                    and recipient.state == "planned"
                    and recipient.channel == channel
                )
            )
        ).partner_id
        return domain & Domain("id", "in", partners.ids)
