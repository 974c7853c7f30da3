from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import WechatApiCase


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestWechatTag(WechatApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tier = cls.env.ref("freelancer_crm.fan_tier_core")
        Partner = cls.env["res.partner"]
        cls.fans = Partner
        for index in range(120):
            fan = Partner._wechat_find_or_create_fan(cls.api_account, f"oTagFan{index:021d}")
            fan._fan_record_consent("wechat", "grant", "wechat_follow")
            cls.fans |= fan
        cls.fans.write({"fan_tier_id": cls.tier.id})
        cls.Tag = cls.env["wechat.tag"]

    def setUp(self):
        super().setUp()
        self.fake_api.reset_counters()
        self.fake_api.tags.clear()
        self.fake_api.user_tags.clear()

    def test_pull_creates_and_updates(self):
        self.fake_api.tags.update({101: "Pottery", 102: "Workshop"})
        self.fake_api.user_tags["oX"].add(101)
        tags = self.Tag._wechat_pull(self.api_account)
        self.assertEqual(sorted(tags.mapped("name")), ["Pottery", "Workshop"])
        self.assertEqual(tags.filtered(lambda t: t.wechat_id == 101).wechat_count, 1)

        self.fake_api.tags[101] = "Pottery Class"
        del self.fake_api.tags[102]
        self.Tag._wechat_pull(self.api_account)
        self.assertEqual(tags.filtered(lambda t: t.wechat_id == 101).name, "Pottery Class")
        self.assertEqual(self.Tag.search_count([("wechat_id", "=", 102)]), 0)

    def test_push_tier_in_chunks_of_50(self):
        tag = self.Tag.create(
            {"name": "Core fans", "account_id": self.api_account.id, "tier_id": self.tier.id}
        )
        tag.action_push()

        self.assertTrue(tag.wechat_id)
        self.assertEqual(self.fake_api.calls["/cgi-bin/tags/create"], 1)
        self.assertEqual(self.fake_api.calls["/cgi-bin/tags/members/batchtagging"], 3)
        tagged_openids = [o for o, tags in self.fake_api.user_tags.items() if tag.wechat_id in tags]
        self.assertEqual(len(tagged_openids), 120)
        self.assertEqual(tag.partner_ids, self.fans)

        # A second push only sends fans not tagged yet.
        self.fake_api.reset_counters()
        tag.action_push()
        self.assertEqual(self.fake_api.calls["/cgi-bin/tags/members/batchtagging"], 0)

    def test_push_segment(self):
        segment = self.env["fan.segment"].create({"name": "Core", "tier_ids": [self.tier.id]})
        tag = self.Tag.create(
            {"name": "Segment", "account_id": self.api_account.id, "segment_id": segment.id}
        )
        tag.action_push()
        self.assertEqual(tag.partner_ids, self.fans)

    def test_account_tag_limit(self):
        self.Tag.create(
            [
                {"name": f"t{index}", "account_id": self.api_account.id, "wechat_id": index + 1}
                for index in range(100)
            ]
        )
        tag = self.Tag.create(
            {"name": "One more", "account_id": self.api_account.id, "tier_id": self.tier.id}
        )
        with self.assertRaises(UserError) as catcher:
            tag.action_push()
        self.assertIn("maximum", str(catcher.exception))
        self.assertEqual(self.fake_api.calls["/cgi-bin/tags/create"], 0)

    def test_fan_tag_limit(self):
        full = self.Tag.create(
            [
                {
                    "name": f"t{index}",
                    "account_id": self.api_account.id,
                    "wechat_id": index + 1,
                    "partner_ids": [(4, self.fans[0].id)],
                }
                for index in range(20)
            ]
        )
        self.assertEqual(len(full), 20)
        tag = self.Tag.create(
            {"name": "21st", "account_id": self.api_account.id, "tier_id": self.tier.id}
        )
        with self.assertRaises(UserError) as catcher:
            tag.action_push()
        self.assertIn("20 tags", str(catcher.exception))

    def test_push_without_source(self):
        tag = self.Tag.create({"name": "Empty", "account_id": self.api_account.id})
        with self.assertRaises(UserError):
            tag.action_push()
