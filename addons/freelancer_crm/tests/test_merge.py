from odoo.tests import tagged

from .common import FanCase


@tagged("post_install", "-at_install")
class TestMerge(FanCase):
    def test_merge_keeps_identities_consents_interactions(self):
        wechat_fan = self._create_fan("微信上的她")
        wechat_fan._fan_add_identities({"wechat_openid": "oMerge1"}, account_key="wxA")
        wechat_fan._fan_record_consent("wechat", "grant", "wechat_follow")
        wechat_fan._fan_log_interaction("wechat_message", name="你好")
        mail_fan = self._create_fan("邮件里的她", email="merge@example.com")
        mail_fan._fan_record_consent("email", "grant", "web_form")
        mail_fan._fan_log_interaction("purchase", amount=199)

        wizard = self.env["base.partner.merge.automatic.wizard"].create({})
        wizard._merge((wechat_fan | mail_fan).ids, dst_partner=mail_fan)

        self.assertFalse(wechat_fan.exists())
        self.assertTrue(mail_fan.is_fan)
        self.assertEqual(
            mail_fan.fan_identity_ids.filtered(lambda i: i.channel == "wechat_openid").value,
            "oMerge1",
        )
        self.assertEqual(mail_fan.consent_wechat, "granted")
        self.assertEqual(mail_fan.consent_email, "granted")
        self.assertEqual(len(mail_fan.fan_consent_ids), 2)
        self.assertEqual(
            sorted(mail_fan.fan_interaction_ids.mapped("interaction_type")),
            ["purchase", "wechat_message"],
        )
        self.assertAlmostEqual(mail_fan.fan_score, 4 + 20 + 19.9, places=1)
        self.assertEqual(self.Partner._fan_find({"wechat_openid": "oMerge1"}, "wxA"), mail_fan)
