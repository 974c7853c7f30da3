import base64
import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import FanCase
from .test_import import CSV_TEXT


@tagged("post_install", "-at_install")
class TestPrivacy(FanCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.assistant = new_test_user(
            cls.env, login="fan_assistant", groups="freelancer_crm.group_fan_assistant"
        )
        cls.fan = cls._create_fan(
            "王芳", email="wang.fang@example.com", phone="13800138000", city="上海"
        )
        cls.fan._fan_add_identities({"wechat_openid": "oPrivacy1"}, account_key="wxA")
        cls.fan._fan_record_consent("email", "grant", "web_form", ip_address="127.0.0.9")
        cls.fan._fan_log_interaction("wechat_message", name="我想报名木勺课")

    def test_export_contains_everything(self):
        action = self.fan.action_fan_export_data()
        attachment_id = int(action["url"].split("/")[3].split("?")[0])
        attachment = self.env["ir.attachment"].browse(attachment_id)
        data = json.loads(base64.b64decode(attachment.datas))
        self.assertEqual(data[0]["profile"]["email"], "wang.fang@example.com")
        self.assertEqual(data[0]["identities"][0]["value"], "oPrivacy1")
        self.assertEqual(data[0]["consents"][0]["ip_address"], "127.0.0.9")
        self.assertEqual(data[0]["interactions"][0]["summary"], "我想报名木勺课")
        log = self.env["fan.privacy.log"].search([("partner_id", "=", self.fan.id)])
        self.assertEqual(log.request_type, "export")
        self.assertEqual(log.attachment_id, attachment)

    def test_erase_anonymises_and_withdraws(self):
        self.fan.action_fan_erase()
        self.assertFalse(self.fan.active)
        self.assertFalse(self.fan.email)
        self.assertFalse(self.fan.phone)
        self.assertFalse(self.fan.city)
        self.assertNotIn("王芳", self.fan.name)
        self.assertFalse(self.fan.with_context(active_test=False).fan_identity_ids)
        self.assertEqual(self.fan.consent_email, "withdrawn")
        self.assertFalse(any(self.fan.fan_consent_ids.mapped("address")))
        self.assertFalse(any(self.fan.fan_consent_ids.mapped("ip_address")))
        self.assertIn("erasure", self.fan.fan_consent_ids.mapped("source"))
        self.assertFalse(any(self.fan.fan_interaction_ids.mapped("name")))
        digests = self.env["fan.suppression"].search([]).mapped("digest")
        self.assertNotIn("wang.fang@example.com", " ".join(digests))
        log = self.env["fan.privacy.log"].search([("partner_ref", "=", str(self.fan.id))])
        self.assertEqual(log.request_type, "erase")

    def test_erased_person_not_imported_again(self):
        self.fan.action_fan_erase()
        fan_import = self._import_file(CSV_TEXT.encode())
        self.assertFalse(
            self.Partner.search([("email_normalized", "=", "wang.fang@example.com")]),
            "an erased email must not come back through an import",
        )
        line = fan_import.line_ids.filtered(lambda line: line.row == 2)
        self.assertEqual(line.status, "error")
        self.assertIn("Erased", line.message)

    def test_portal_and_public_see_no_fan_data(self):
        portal = new_test_user(self.env, login="fan_portal", groups="base.group_portal")
        public = self.env.ref("base.public_user")
        for user in (portal, public):
            for model in ("fan.interaction", "fan.consent", "fan.identity"):
                with self.subTest(user=user.login, model=model):
                    records = self.env[model].with_user(user)
                    try:
                        found = records.search([("partner_id", "=", self.fan.id)])
                    except AccessError:
                        continue
                    self.assertFalse(found)

    def test_assistant_cannot_export_or_erase(self):
        fan = self.fan.with_user(self.assistant)
        with self.assertRaises(AccessError):
            fan.action_fan_export_data()
        with self.assertRaises(AccessError):
            fan.action_fan_erase()
        self.assertTrue(self.fan.active)
        self.assertFalse(self.assistant.has_group("base.group_allow_export"))

    def _assert_erase_rejected(self, partner, pattern):
        name = partner.name
        suppressions = self.env["fan.suppression"].search_count([])
        with self.assertRaisesRegex(UserError, pattern):
            partner.action_fan_erase()
        self.assertTrue(partner.active)
        self.assertEqual(partner.name, name)
        self.assertEqual(self.env["fan.suppression"].search_count([]), suppressions)
        self.assertFalse(partner.fan_can_erase)

    def test_erase_rejects_company_contact(self):
        company_partner = self.env.company.partner_id
        company_partner.is_fan = True
        self._assert_erase_rejected(company_partner, "company")
        other = self.env["res.company"].create({"name": "另一家工作室"})
        other.partner_id.is_fan = True
        self._assert_erase_rejected(other.partner_id, "company")

    def test_erase_rejects_user_contact(self):
        user = new_test_user(self.env, login="fan_erase_user")
        user.partner_id.is_fan = True
        self._assert_erase_rejected(user.partner_id, "user")
        user.active = False
        self._assert_erase_rejected(user.partner_id, "user")

    def test_erase_rejects_non_fan(self):
        contact = self.Partner.create({"name": "供应商", "email": "supplier@example.com"})
        self._assert_erase_rejected(contact, "not a fan")

    def test_erase_rejects_whole_selection(self):
        contact = self.Partner.create({"name": "供应商"})
        with self.assertRaises(UserError):
            (self.fan | contact).action_fan_erase()
        self.assertTrue(self.fan.active)
        self.assertEqual(self.fan.name, "王芳")
        self.assertTrue(self.fan.fan_can_erase)
