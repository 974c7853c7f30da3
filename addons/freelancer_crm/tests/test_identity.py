from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import FanCase


@tagged("post_install", "-at_install")
class TestIdentity(FanCase):
    def test_identity_normalised_and_unique(self):
        fan = self._create_fan("李娜", email="li.na@example.com")
        fan._fan_add_identities({"mobile": "+86 138-0013-8001"})
        identity = fan.fan_identity_ids.filtered(lambda i: i.channel == "mobile")
        self.assertEqual(identity.value, "+8613800138001")
        other = self._create_fan("李娜二号")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["fan.identity"].create(
                {"partner_id": other.id, "channel": "mobile", "value": "138 0013 8001"}
            )

    def test_identity_invalid_value_rejected(self):
        fan = self._create_fan("赵磊")
        with self.assertRaises(ValidationError):
            self.env["fan.identity"].create(
                {"partner_id": fan.id, "channel": "email", "value": "not-an-email"}
            )

    def test_openid_scoped_by_account(self):
        first = self._create_fan("周杰")
        second = self._create_fan("周杰伦")
        first._fan_add_identities({"wechat_openid": "oSame"}, account_key="wxA")
        second._fan_add_identities({"wechat_openid": "oSame"}, account_key="wxB")
        self.assertEqual(self.Partner._fan_find({"wechat_openid": "oSame"}, "wxA"), first)
        self.assertEqual(self.Partner._fan_find({"wechat_openid": "oSame"}, "wxB"), second)

    def test_find_by_unionid_then_mobile_then_email(self):
        fan = self._create_fan("孙丽", email="sun.li@example.com", phone="13900139000")
        self.assertEqual(self.Partner._fan_find({"mobile": "+86 139 0013 9000"}), fan)
        self.assertEqual(self.Partner._fan_find({"email": " Sun.Li@Example.com"}), fan)
        fan._fan_add_identities({"wechat_unionid": "uUnion1"})
        self.assertEqual(self.Partner._fan_find({"wechat_unionid": "uUnion1"}), fan)
        self.assertFalse(self.Partner._fan_find({"email": "nobody@example.com"}))

    def test_find_ambiguous_returns_both(self):
        by_mail = self._create_fan("郑一", email="zheng@example.com")
        by_phone = self._create_fan("郑二", phone="13700137000")
        found = self.Partner._fan_find({"email": "zheng@example.com", "mobile": "13700137000"})
        self.assertEqual(found, by_mail | by_phone)
