from odoo import models


class MailingSmsTest(models.TransientModel):
    _inherit = "mailing.sms.test"

    def action_send_sms(self):
        """Keep the test SMS of Aliyun and Tencent Cloud companies out of the SMS queue.

        The stock wizard creates the test SMS In Queue and sends them itself
        through the provider, so the SMS queue cron would send them a second
        time. With this context key they are created in Processing and
        marked for deletion instead (see ``sms.sms.create``).
        """
        return super(MailingSmsTest, self.with_context(fan_sms_test_send=True)).action_send_sms()
