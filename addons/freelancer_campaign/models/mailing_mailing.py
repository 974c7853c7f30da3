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

    def write(self, vals):
        result = super().write(vals)
        if vals.get("state") == "done":
            # The mailing queue marks a mailing done without sending when all its
            # recipients were left out, for example after they opted out.
            self._fan_campaign_close_untraced()
        return result

    def _action_send_mail(self, res_ids=None):
        result = super()._action_send_mail(res_ids=res_ids)
        self._fan_campaign_close_untraced()
        return result

    def _fan_campaign_close_untraced(self):
        """Mark the queued campaign recipients that the sent mailing gave no trace.

        A mailing held in the queue is skipped, because it reads its
        recipients when it leaves.
        """
        mailings = self.filtered(lambda m: m.fan_campaign_id and m.state != "in_queue")
        if not mailings:
            return
        # sudo: the mailing queue cron may run as a user without rights on campaign recipients.
        untraced = (
            self.env["fan.campaign.recipient"]
            .sudo()
            .search(
                [
                    ("mailing_id", "in", mailings.ids),
                    ("state", "=", "queued"),
                    ("trace_id", "=", False),
                ]
            )
        )
        if untraced:
            untraced._fan_mark_left_out()
