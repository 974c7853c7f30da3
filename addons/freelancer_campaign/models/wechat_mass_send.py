from odoo import fields, models


class WechatMassSend(models.Model):
    _inherit = "wechat.mass.send"

    fan_campaign_id = fields.Many2one(
        comodel_name="fan.campaign",
        string="Cross-Channel Campaign",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
    )

    def _apply_job_finish(self, message):
        """Delete the campaign's tag soon, from the scheduled action.

        The tag is not deleted here because the callback that delivers the
        event must respond to WeChat within 5 seconds.
        """
        result = super()._apply_job_finish(message)
        if self.filtered("fan_campaign_id"):
            self.env.ref("freelancer_campaign.ir_cron_fan_campaign_delete_wechat_tags")._trigger()
        return result
