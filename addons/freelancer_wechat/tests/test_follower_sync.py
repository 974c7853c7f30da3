from unittest.mock import patch

from odoo.tests import tagged

from ..models import wechat_account_api
from .common import WechatApiCase

# Pages of 1,000 instead of WeChat's 10,000 keep the tests fast; the code path is the same.
PAGE_SIZE = 1000


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestFollowerSync(WechatApiCase):
    def setUp(self):
        super().setUp()
        self.fake_api.reset_counters()
        self.fake_api.followers.clear()
        self.fake_api.users.clear()
        self.fake_api.page_size = PAGE_SIZE
        self.addCleanup(setattr, self.fake_api, "page_size", 10000)
        patcher = patch.object(wechat_account_api, "FOLLOWER_PAGE_SIZE", PAGE_SIZE)
        patcher.start()
        self.addCleanup(patcher.stop)

    def on_batchget(self, call_number, action):
        """Return a patch that runs ``action()`` before the ``call_number``-th batchget call."""
        original_handle = self.fake_api.handle
        calls = {"batchget": 0}

        def handle(method, path, query, body):
            if path == "/cgi-bin/user/info/batchget":
                calls["batchget"] += 1
                if calls["batchget"] == call_number:
                    action()
            return original_handle(method, path, query, body)

        return patch.object(self.fake_api, "handle", handle)

    def fans_of(self, openids):
        identities = self.env["fan.identity"].search(
            [
                ("channel", "=", "wechat_openid"),
                ("account_key", "=", self.api_account.app_id),
                ("value", "in", openids),
            ]
        )
        return identities

    def test_sync_pages_and_batches(self):
        openids = self.fake_api.add_followers(2500)

        finished = self.api_account._wechat_sync_followers()

        self.assertTrue(finished)
        calls = self.fake_api.calls
        self.assertEqual(calls["/cgi-bin/user/get"], 3)
        self.assertEqual(calls["/cgi-bin/user/info/batchget"], 25)
        identities = self.fans_of(openids)
        self.assertEqual(len(identities), 2500)
        self.assertEqual(len(identities.partner_id), 2500)
        self.assertEqual(self.api_account.follower_total, 2500)
        self.assertFalse(self.api_account.follower_next_openid)
        self.assertTrue(self.api_account.follower_sync_date)

        fan = identities[:1].partner_id
        self.assertTrue(fan.is_fan)
        self.assertEqual(fan.consent_wechat, "granted")
        consent = fan.fan_consent_ids
        self.assertEqual(len(consent), 1)
        self.assertEqual(consent.source, "wechat_follow")
        self.assertIn("Follower sync", consent.proof)
        unionid = fan.fan_identity_ids.filtered(lambda i: i.channel == "wechat_unionid")
        self.assertEqual(len(unionid), 1)

    def test_existing_fan_linked_not_duplicated(self):
        openids = self.fake_api.add_followers(3)
        Partner = self.env["res.partner"]
        # One fan known by OpenID (already consented), one by UnionID only.
        by_openid = Partner._wechat_find_or_create_fan(self.api_account, openids[0])
        by_openid._fan_record_consent("wechat", "grant", "wechat_follow", address=openids[1])
        by_unionid = Partner.create({"name": "Known by UnionID"})
        by_unionid._fan_add_identities(
            {"wechat_unionid": self.fake_api.users[openids[1]]["unionid"]}, source="test"
        )

        self.api_account._wechat_sync_followers()

        self.assertEqual(self.fans_of(openids[:1]).partner_id, by_openid)
        self.assertEqual(self.fans_of(openids[1:2]).partner_id, by_unionid)
        self.assertTrue(by_unionid.is_fan)
        self.assertEqual(len(by_openid.fan_consent_ids), 1, "no second consent entry")
        self.assertEqual(len(by_unionid.fan_consent_ids), 1)

    def test_second_sync_creates_nothing(self):
        openids = self.fake_api.add_followers(150)
        self.api_account._wechat_sync_followers()
        partner_count = self.env["res.partner"].search_count([])
        consent_count = self.env["fan.consent"].search_count([])

        self.api_account._wechat_sync_followers()

        self.assertEqual(self.env["res.partner"].search_count([]), partner_count)
        self.assertEqual(self.env["fan.consent"].search_count([]), consent_count)
        self.assertEqual(len(self.fans_of(openids)), 150)

    def test_token_expires_during_prefetch(self):
        openids = self.fake_api.add_followers(2500)
        # The token expires while page 2 is fetched in advance, in the worker
        # thread that cannot refresh it: the page is fetched again.
        state = {}

        def expire():
            self.fake_api.expire_tokens()
            state["expired_at"] = len(self.fake_api.requests)

        with self.on_batchget(15, expire):
            finished = self.api_account._wechat_sync_followers()

        self.assertTrue(finished)
        identities = self.fans_of(openids)
        self.assertEqual(len(identities), 2500)
        self.assertEqual(len(identities.partner_id), 2500)
        token_fetches = sum(
            1
            for req in self.fake_api.requests[state["expired_at"] :]
            if req[1] in ("/cgi-bin/token", "/cgi-bin/stable_token")
        )
        self.assertEqual(token_fetches, 1, "one new token after the expiry")
        self.assertEqual(self.api_account.api_state, "ok")

    def test_resume_after_rate_limit(self):
        openids = self.fake_api.add_followers(2500)
        # Page 1 imports; the batchget calls of page 2 hit the rate limit.

        cron = self.env.ref("freelancer_wechat.ir_cron_wechat_sync_followers")
        with self.on_batchget(15, lambda: self.fake_api.fail("/cgi-bin/user/info/batchget", 45009)):
            finished = self.api_account._wechat_sync_followers()
        self.assertFalse(finished)
        self.assertEqual(self.api_account.follower_next_openid, openids[999])
        self.assertEqual(self.api_account.api_state, "error")
        self.assertIn("45009", self.api_account.api_message)
        self.assertEqual(len(self.fans_of(openids[:1000])), 1000)
        trigger = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        self.assertTrue(trigger, "the cron is scheduled again after the rate limit")

        self.fake_api.reset_counters()
        finished = self.api_account._wechat_sync_followers()

        self.assertTrue(finished)
        first_call = next(req for req in self.fake_api.requests if req[1] == "/cgi-bin/user/get")
        self.assertEqual(first_call[2].get("next_openid"), openids[999])
        self.assertEqual(self.fake_api.calls["/cgi-bin/user/get"], 2)
        identities = self.fans_of(openids)
        self.assertEqual(len(identities), 2500)
        self.assertEqual(len(identities.partner_id), 2500)
        self.assertEqual(self.api_account.api_state, "ok")

    def test_tags_from_back_office(self):
        openids = self.fake_api.add_followers(1500)
        self.fake_api.tags.clear()
        self.fake_api.user_tags.clear()
        # "学员" is known in Odoo with a fan that lost it on WeChat; "老粉" is new.
        self.fake_api.tags.update({301: "学员", 302: "老粉"})
        for openid in openids[:10]:
            self.fake_api.user_tags[openid].update({301, 302})
        for openid in openids[1200:1205]:
            self.fake_api.user_tags[openid].add(302)
        former = self.env["res.partner"].create({"name": "前学员", "is_fan": True})
        self.env["fan.identity"].create(
            {
                "partner_id": former.id,
                "channel": "wechat_openid",
                "value": openids[20],
                "account_key": self.api_account.app_id,
            }
        )
        known = self.env["wechat.tag"].create(
            {
                "name": "学员",
                "account_id": self.api_account.id,
                "wechat_id": 301,
                "partner_ids": [(4, former.id)],
            }
        )

        finished = self.api_account._wechat_sync_followers()

        self.assertTrue(finished)
        fans = self.fans_of(openids).sorted(lambda identity: openids.index(identity.value))
        self.assertEqual(known.partner_ids, fans[:10].partner_id)
        self.assertNotIn(former, known.partner_ids)
        new_tag = self.env["wechat.tag"].search(
            [("account_id", "=", self.api_account.id), ("wechat_id", "=", 302)]
        )
        self.assertEqual(new_tag.name, "老粉")
        self.assertEqual(new_tag.partner_ids, (fans[:10] | fans[1200:1205]).partner_id)
        self.assertEqual(self.fake_api.calls["/cgi-bin/tags/get"], 1, "tags downloaded once")

    def test_bulk_fans_match_normal_ones(self):
        Partner = self.env["res.partner"]
        fans = Partner._wechat_create_fans(["微信粉丝甲", "微信粉丝乙", "微信粉丝丙"])
        normal = Partner.create(Partner._fan_prepare_vals(name="微信粉丝丁", fan_source="wechat"))
        self.env.flush_all()
        self.env.invalidate_all()

        self.assertEqual(fans.mapped("name"), ["微信粉丝甲", "微信粉丝乙", "微信粉丝丙"])
        skipped = {"id", "name", "complete_name", "display_name", "commercial_partner_id"}
        skipped |= {"create_date", "write_date", "__last_update"}
        stored = [
            name
            for name, field in Partner._fields.items()
            if field.store and field.column_type and name not in skipped
        ]
        for fan in fans:
            with self.subTest(fan=fan.name):
                self.assertEqual(fan.complete_name, fan.name)
                self.assertEqual(fan.commercial_partner_id, fan)
                self.assertFalse(fan.image_128)
                self.assertTrue(fan.avatar_128, "the generated avatar still works")
                for name in stored:
                    self.assertEqual(fan[name], normal[name], f"field {name}")
