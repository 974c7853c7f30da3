from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import FanCase


@tagged("post_install", "-at_install")
class TestSegment(FanCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.core = cls._create_fan("铁杆甲", email="core@example.com", city="上海")
        cls.active = cls._create_fan("活跃乙", email="active@example.com", phone="13100131000")
        cls.regular = cls._create_fan("普通丙", email="regular@example.com")
        cls.Partner.browse((cls.core | cls.active | cls.regular).ids).write({})
        cls.env.cr.execute(
            "UPDATE res_partner SET fan_tier_id = %s WHERE id = %s", [cls.tier_core.id, cls.core.id]
        )
        cls.env.cr.execute(
            "UPDATE res_partner SET fan_tier_id = %s WHERE id = %s",
            [cls.tier_active.id, cls.active.id],
        )
        cls.env.cr.execute(
            "UPDATE res_partner SET fan_tier_id = %s WHERE id = %s",
            [cls.tier_regular.id, cls.regular.id],
        )
        cls.Partner.invalidate_model(["fan_tier_id"])
        (cls.core | cls.active | cls.regular)._fan_record_consent("email", "grant", "manual")
        cls.active._fan_record_consent("sms", "grant", "manual")
        cls.Segment = cls.env["fan.segment"]

    def _members(self, segment, channel=None):
        own = self.core | self.active | self.regular
        return self.Partner.search(segment._get_partner_domain(channel)) & own

    def test_tier_or_above(self):
        segment = self.Segment.create({"name": "活跃及以上", "min_tier_id": self.tier_active.id})
        self.assertEqual(self._members(segment), self.core | self.active)

    def test_consent_channel_and_counts(self):
        segment = self.Segment.create({"name": "短信", "consent_channel": "sms"})
        self.assertEqual(self._members(segment), self.active)
        segment = self.Segment.create({"name": "全部", "min_tier_id": self.tier_regular.id})
        self.assertGreaterEqual(segment.email_count, 3)
        self.assertGreaterEqual(segment.sms_count, 1)
        self.assertLessEqual(segment.sms_count, segment.partner_count)

    def test_withdrawn_consent_leaves_channel(self):
        segment = self.Segment.create(
            {"name": "邮件", "min_tier_id": self.tier_active.id, "consent_channel": "email"}
        )
        self.assertEqual(self._members(segment), self.core | self.active)
        self.core._fan_record_consent("email", "withdraw", "unsubscribe_link")
        self.assertEqual(self._members(segment), self.active)

    def test_city_tags_and_extra_domain(self):
        tag = self.env["res.partner.category"].create({"name": "手作"})
        self.active.category_id = tag
        by_city = self.Segment.create({"name": "上海", "city": "上海"})
        self.assertEqual(self._members(by_city), self.core)
        by_tag = self.Segment.create({"name": "手作", "category_ids": tag.ids})
        self.assertEqual(self._members(by_tag), self.active)
        by_domain = self.Segment.create(
            {"name": "域", "extra_domain": "[('email', 'ilike', 'regular@')]"}
        )
        self.assertEqual(self._members(by_domain), self.regular)

    def test_interacted_recently(self):
        self.regular._fan_log_interaction("email_open")
        segment = self.Segment.create({"name": "近7天", "interacted_days": 7})
        self.assertEqual(self._members(segment), self.regular)

    def test_behaviour_conditions(self):
        self.core._fan_log_interaction("email_open")
        self.active._fan_log_interaction("email_click")
        self.regular._fan_log_interaction("purchase", amount=99)
        self.active._fan_record_consent("wechat", "grant", "wechat_follow")
        cases = [
            ({"opened_days": 7}, self.core),
            ({"clicked_days": 7}, self.active),
            ({"purchased": True}, self.regular),
            ({"follows_wechat": True}, self.active),
        ]
        for values, expected in cases:
            with self.subTest(values=values):
                segment = self.Segment.create(dict(values, name="行为"))
                self.assertEqual(self._members(segment), expected)

    def test_invalid_extra_domain_rejected(self):
        for extra in ('[("name","="', "garbage", "[('no_such_field', '=', 1)]"):
            with self.subTest(extra=extra), self.assertRaises(ValidationError):
                self.Segment.create({"name": "坏的", "extra_domain": extra})

    def test_days_out_of_range_rejected(self):
        for field in ("interacted_days", "opened_days", "clicked_days"):
            for days in (99999999, 2147483647, 36501, -1):
                with self.subTest(field=field, days=days), self.assertRaises(ValidationError):
                    self.Segment.create({"name": "坏天数", field: days})
            segment = self.Segment.create({"name": "边界", field: 36500})
            self.assertEqual(segment[field], 36500)
            segment[field] = 0
            self.assertEqual(
                segment.partner_count, self.Segment.create({"name": "全部"}).partner_count
            )

    def test_bad_stored_days_do_not_break_list(self):
        self.regular._fan_log_interaction("email_open")
        segment = self.Segment.create({"name": "旧数据"})
        for days in (2147483647, 99999999, -5):
            with self.subTest(days=days):
                self.env.cr.execute(
                    "UPDATE fan_segment SET interacted_days = %s, opened_days = %s WHERE id = %s",
                    [days, days, segment.id],
                )
                self.Segment.invalidate_model()
                rows = self.Segment.search_read([("id", "=", segment.id)], ["partner_count"])
                self.assertEqual(len(rows), 1)
                self.assertIn(self.regular, self.Partner.search(segment._get_partner_domain()))

    def test_bad_stored_filter_gives_zero_counts(self):
        segment = self.Segment.create({"name": "坏过滤"})
        self.env.cr.execute(
            "UPDATE fan_segment SET extra_domain = %s WHERE id = %s",
            ["[('no_such_field', '=', 1)]", segment.id],
        )
        self.Segment.invalidate_model()
        rows = self.Segment.search_read([("id", "=", segment.id)], ["partner_count", "sms_count"])
        self.assertEqual((rows[0]["partner_count"], rows[0]["sms_count"]), (0, 0))

    def test_city_wildcards_are_plain_text(self):
        percent = self._create_fan("百分百", email="percent@example.com", city="100%城")
        own = self.core | self.active | self.regular | percent
        for city, expected in (
            ("%", percent),
            ("_", self.Partner),
            ("100%", percent),
            ("上海", self.core),
            ("  上海 ", self.core),
        ):
            with self.subTest(city=city):
                segment = self.Segment.create({"name": "城市", "city": city})
                self.assertEqual(self.Partner.search(segment._get_partner_domain()) & own, expected)
