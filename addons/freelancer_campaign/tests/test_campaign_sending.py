from datetime import datetime

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import RecordCapturer, tagged

from .common import SEND_TIME, CampaignCase

# 23:00 in Shanghai, outside the default SMS sending window (08:00-20:00).
NIGHT_TIME = datetime(2026, 11, 18, 15, 0, 0)
# 08:30 in Shanghai the next morning, when the window has opened again.
NEXT_MORNING = datetime(2026, 11, 19, 0, 30, 0)


@tagged("post_install", "-at_install")
class TestCampaignSending(CampaignCase):
    """Campaigns that reach nobody, left-out fans, the sender address and queued emails."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time(SEND_TIME):
            cls.email_fan = cls._create_fan("送达邮件", {"email"})
            cls.sms_fan = cls._create_fan("送达短信", {"sms", "email"}, "sms")
            cls.other_sms_fan = cls._create_fan("送达短信二", {"sms"})
            cls.no_consent_fan = cls._create_fan("送达无同意", set())
            cls.capped_fan = cls._create_fan("送达超限", {"email"})
            for _index in range(2):
                cls.env["mailing.trace"].create(
                    {
                        "model": "res.partner",
                        "res_id": cls.capped_fan.id,
                        "trace_status": "sent",
                        "email": cls.capped_fan.email,
                        "trace_type": "mail",
                    }
                )
        cls.segment = cls.env["fan.segment"].create(
            {"name": "默认", "extra_domain": repr([("id", "=", cls.email_fan.id)])}
        )

    def _plan(self, campaign, at=SEND_TIME):
        with freeze_time(at):
            return campaign.action_plan()

    # Campaigns that reach nobody

    def test_empty_segment_rejected(self):
        segment = self._segment_of(self.env["res.partner"], name="空分组")
        campaign = self._campaign(segment_id=segment.id)
        with self.assertRaisesRegex(UserError, "“空分组” has no fans"):
            self._plan(campaign)
        with self.assertRaisesRegex(UserError, "“空分组” has no fans"), freeze_time(SEND_TIME):
            campaign.action_send()
        self.assertEqual(campaign.state, "draft")
        self.assertFalse(campaign.mailing_ids)

    def test_nobody_reachable_rejected(self):
        segment = self._segment_of(self.no_consent_fan | self.capped_fan, name="无人可达")
        campaign = self._campaign(segment_id=segment.id)
        with self.assertRaisesRegex(
            UserError, "1 cannot be reached on any channel .* and 1 are over the frequency cap"
        ):
            self._plan(campaign)
        self.assertEqual(campaign.state, "draft")

        with self.assertRaisesRegex(UserError, "No fan of the segment “无人可达” can be reached"):
            self._send(campaign)
        self.assertFalse(campaign.mailing_ids)

    def test_unreachable_and_capped_warned(self):
        fans = self.email_fan | self.no_consent_fan | self.capped_fan
        campaign = self._campaign(segment_id=self._segment_of(fans).id)
        action = self._plan(campaign)

        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(action["params"]["type"], "warning")
        message = action["params"]["message"]
        self.assertIn("2 of the 3 fans of the segment will not receive this campaign", message)
        self.assertIn("1 cannot be reached on any of its channels and 1 are over", message)
        self.assertEqual(campaign.plan_warning, message)
        self.assertEqual(campaign.state, "planned")

        _wechat_to, email_to, _sms_to = self._send(campaign)
        self.assertEqual(email_to, {self.email_fan.email})
        self.assertEqual(campaign.state, "sent")
        self.assertTrue(
            any(message in body for body in campaign.message_ids.mapped("body")),
            "the warning is logged on the campaign",
        )

    def test_fully_reachable_not_warned(self):
        campaign = self._campaign(segment_id=self._segment_of(self.email_fan).id)
        self.assertIs(self._plan(campaign), True)
        self.assertFalse(campaign.plan_warning)

    # Sender address

    def test_invalid_sender_rejected_on_save(self):
        with self.assertRaisesRegex(ValidationError, "“not an email” is not a valid email"):
            self._campaign(email_from="not an email")
        campaign = self._campaign(email_from="studio@example.com")
        with self.assertRaisesRegex(ValidationError, "not a valid email address"):
            campaign.email_from = "手作小记 <studio@example>, other@example.com"
        campaign.email_from = "手作小记 <studio@example.com>"
        self.assertEqual(campaign.email_from, "手作小记 <studio@example.com>")

    def test_invalid_sender_rejected_before_sending(self):
        campaign = self._campaign(segment_id=self._segment_of(self.email_fan).id)
        self._plan(campaign)
        # A sender stored before the address was checked at save.
        self.env.cr.execute(
            "UPDATE fan_campaign SET email_from = 'not an email' WHERE id = %s", [campaign.id]
        )
        campaign.invalidate_recordset(["email_from"])
        with self.assertRaisesRegex(UserError, "“not an email” is not a valid email address"):
            self._send(campaign)
        self.assertEqual(campaign.state, "planned")
        self.assertFalse(campaign.mailing_ids)

    # Fans who opt out before their SMS leaves

    def test_sms_opt_out_cancels_queued_sms(self):
        campaign = self._campaign(
            segment_id=self._segment_of(self.sms_fan | self.other_sms_fan).id,
            use_wechat=False,
            use_email=False,
        )
        with freeze_time(SEND_TIME), self.mockSMSGateway():
            campaign.action_send()
            recipient = self._recipient(campaign, self.sms_fan)
            self.assertEqual(recipient.state, "queued")
            self.assertEqual(recipient.trace_status, "outgoing")
            self.assertEqual(campaign.state, "sending")

            self.env["sms.sms"]._fan_process_reply("aliyun", self.sms_fan.fan_mobile, "R")
            self.assertEqual(recipient.trace_status, "cancel")
            self.assertEqual(recipient.state, "opted_out")
            self.assertIn("opted out of SMS", recipient.reason)
            self.assertEqual(campaign.state, "sending", "the other fan's SMS is still queued")

            self.env["sms.sms"].sudo().search([("state", "=", "outgoing")])._send()
            self.assertEqual({sms["number"] for sms in self._sms}, {self.other_sms_fan.fan_mobile})
        self.assertEqual(self._recipient(campaign, self.other_sms_fan).state, "sent")
        self.assertEqual(campaign.state, "sent")
        campaign.invalidate_recordset()
        self.assertEqual(campaign.opted_out_count, 1)
        self.assertEqual(campaign.sms_sent_count, 1)
        self.assertEqual(campaign.reached_count, 1)
        self.assertEqual(campaign.sms_part_count, 1)

    def test_sms_opt_out_while_held_then_retry(self):
        campaign = self._campaign(
            segment_id=self._segment_of(self.sms_fan | self.other_sms_fan).id, use_wechat=False
        )
        with freeze_time(NIGHT_TIME), self.mockSMSGateway():
            campaign.action_send()
        sms_mailing = campaign.mailing_ids
        self.assertEqual(sms_mailing.state, "in_queue", "SMS wait for the sending window")
        for fan in self.sms_fan | self.other_sms_fan:
            self.assertEqual(self._recipient(campaign, fan).state, "queued", fan.name)
        self.assertEqual(campaign.state, "sending")

        with freeze_time(NIGHT_TIME + (NEXT_MORNING - NIGHT_TIME) / 2):
            self.env["sms.sms"]._fan_process_reply("aliyun", self.sms_fan.fan_mobile, "R")
        with freeze_time(NEXT_MORNING), self.mockSMSGateway():
            self.env.ref("mass_mailing.ir_cron_mass_mailing_queue").sudo().method_direct_trigger()
            self.env["sms.sms"].sudo().search([("state", "=", "outgoing")])._send()
            self.assertEqual({sms["number"] for sms in self._sms}, {self.other_sms_fan.fan_mobile})

        recipient = self._recipient(campaign, self.sms_fan)
        self.assertEqual(recipient.state, "opted_out")
        self.assertFalse(recipient.trace_id, "the mailing left the fan out")
        # The mailing queue cron wrote the reason in its user's language.
        queue_user = self.env.ref("mass_mailing.ir_cron_mass_mailing_queue").user_id
        self.assertEqual(
            recipient.reason,
            recipient.with_context(lang=queue_user.lang)._fan_opt_out_reason(),
        )
        self.assertEqual(self._recipient(campaign, self.other_sms_fan).state, "sent")
        self.assertEqual(campaign.state, "sent")
        campaign.invalidate_recordset()
        self.assertEqual(campaign.sms_sent_count, 1)
        self.assertEqual(campaign.reached_count, 1)
        self.assertEqual(campaign.failed_count, 0)

        # The fan still consents to email, his next channel.
        _wechat_to, email_to, sms_to = self._deliver(campaign.action_retry_failed, NEXT_MORNING)
        self.assertEqual(email_to, {self.sms_fan.email})
        self.assertFalse(sms_to)
        self.assertEqual((recipient.channel, recipient.state), ("email", "sent"))
        campaign.invalidate_recordset()
        self.assertEqual(campaign.reached_count, 2)

    # Emails left to the mail queue

    def test_queued_emails_trigger_mail_queue(self):
        # Odoo sends a mass mailing at once only up to this many recipients (100 by default).
        self.env["ir.config_parameter"].set_param("mail.mail.force.send.limit", 1)
        fans = self.email_fan | self.sms_fan
        campaign = self._campaign(
            segment_id=self._segment_of(fans).id, use_wechat=False, use_sms=False
        )
        mail_cron = self.env.ref("mail.ir_cron_mail_scheduler_action")
        with (
            freeze_time(SEND_TIME),
            self.mock_mail_gateway(),
            RecordCapturer(
                self.env["ir.cron.trigger"].sudo(), [("cron_id", "=", mail_cron.id)]
            ) as triggers,
        ):
            campaign.action_send()
            self.assertFalse(self._mails, "no email left before the queue runs")
            self.assertEqual(triggers.records.mapped("call_at"), [SEND_TIME])
            self.assertEqual(campaign.state, "sending")
            self.assertEqual(set(campaign.recipient_ids.mapped("state")), {"queued"})
            self.assertEqual(campaign.queued_count, 2)
            self.assertEqual(campaign.email_sent_count, 0)
            self.assertEqual(campaign.reached_count, 0)

            self.env["mail.mail"].sudo().process_email_queue()
            self.assertEqual(len(self._mails), 2)
        self.assertEqual(set(campaign.recipient_ids.mapped("state")), {"sent"})
        self.assertEqual(campaign.state, "sent")
        campaign.invalidate_recordset()
        self.assertEqual(campaign.email_sent_count, 2)
        self.assertEqual(campaign.reached_count, 2)
        with self.assertRaisesRegex(UserError, "already been sent"):
            campaign.action_send()
