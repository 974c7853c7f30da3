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

    def test_push_untags_fans_who_left(self):
        tag = self.Tag.create(
            {"name": "Core fans", "account_id": self.api_account.id, "tier_id": self.tier.id}
        )
        tag.action_push()
        leaving = self.fans[:60]
        leaving.write({"fan_tier_id": self.env.ref("freelancer_crm.fan_tier_active").id})
        self.fake_api.reset_counters()

        tag.action_push()

        self.assertEqual(self.fake_api.calls["/cgi-bin/tags/members/batchuntagging"], 2)
        self.assertEqual(self.fake_api.calls["/cgi-bin/tags/members/batchtagging"], 0)
        tagged_openids = {o for o, tags in self.fake_api.user_tags.items() if tag.wechat_id in tags}
        self.assertEqual(len(tagged_openids), 60)
        self.assertEqual(tag.partner_ids, self.fans[60:])

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

    def test_fans_with_20_tags_on_wechat(self):
        # Tags set in the WeChat back office, which Odoo does not know.
        full_openid = (
            self.fans[60].fan_identity_ids.filtered(lambda i: i.channel == "wechat_openid").value
        )
        self.fake_api.user_tags[full_openid].update(range(1, 21))
        tag = self.Tag.create(
            {"name": "Core fans", "account_id": self.api_account.id, "tier_id": self.tier.id}
        )
        tag._wechat_ensure_remote()

        tagged, rejected = tag._wechat_tag_partners(self.fans)

        self.assertEqual(rejected, self.fans[60])
        self.assertEqual(tagged, self.fans - self.fans[60])
        self.assertEqual(tag.partner_ids, self.fans - self.fans[60])
        # Three batches, then the failed batch of 50 once more, one OpenID at a time.
        self.assertEqual(self.fake_api.calls["/cgi-bin/tags/members/batchtagging"], 3 + 50)
        tagged_openids = {o for o, tags in self.fake_api.user_tags.items() if tag.wechat_id in tags}
        self.assertEqual(len(tagged_openids), 119)
        self.assertNotIn(full_openid, tagged_openids)

    def test_push_reports_fans_with_20_tags(self):
        full_openid = (
            self.fans[0].fan_identity_ids.filtered(lambda i: i.channel == "wechat_openid").value
        )
        self.fake_api.user_tags[full_openid].update(range(1, 21))
        tag = self.Tag.create(
            {"name": "Core fans", "account_id": self.api_account.id, "tier_id": self.tier.id}
        )
        with self.assertRaises(UserError) as catcher:
            tag.action_push()
        self.assertIn("already have 20 tags", str(catcher.exception))
        self.assertIn(self.fans[0].display_name, str(catcher.exception))

    def test_delete_tag(self):
        tag = self.Tag.create({"name": "Once", "account_id": self.api_account.id})
        tag._wechat_ensure_remote()
        tag._wechat_tag_partners(self.fans[:3])
        wechat_id = tag.wechat_id

        action = tag.action_delete_on_wechat()

        self.assertEqual(action["res_model"], "wechat.tag")
        self.assertFalse(tag.exists())
        self.assertNotIn(wechat_id, self.fake_api.tags)
        self.assertEqual(self.fake_api.deleted_tags[-1], wechat_id)
        self.assertFalse(any(wechat_id in tags for tags in self.fake_api.user_tags.values()))

    def test_delete_tag_gone_on_wechat(self):
        tag = self.Tag.create({"name": "Gone", "account_id": self.api_account.id, "wechat_id": 999})
        tag._wechat_delete()
        self.assertFalse(tag.exists())
        self.assertEqual(self.fake_api.calls["/cgi-bin/tags/delete"], 1)

    def test_tag_name_too_long(self):
        tag = self.Tag.create({"name": "十一个汉字的标签名称啊", "account_id": self.api_account.id})
        with self.assertRaises(UserError) as catcher:
            tag._wechat_ensure_remote()
        self.assertIn("30 bytes", str(catcher.exception))
        self.assertEqual(self.fake_api.calls["/cgi-bin/tags/create"], 0)
