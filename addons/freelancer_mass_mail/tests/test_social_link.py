from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

POST_URL = "https://example.com/courses/autumn"


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestFanSocialLink(HttpCase):
    def _create_links(self, **channels):
        wizard = self.env["fan.social.link.wizard"].create(
            dict({"name": "秋季陶艺课", "url": POST_URL}, **channels)
        )
        action = wizard.action_create_links()
        return self.env["fan.social.link"].search(action["domain"])

    def _link(self, links, channel):
        return links.filtered(lambda link: link.channel == channel)

    def test_one_link_per_channel(self):
        links = self._create_links(use_douban=True)
        self.assertEqual(
            sorted(links.mapped("channel")), ["douban", "wechat", "weibo", "xiaohongshu"]
        )
        self.assertEqual(len(links.link_tracker_id), 4)
        self.assertEqual(
            self._link(links, "weibo").link_tracker_id.source_id,
            self.env.ref("freelancer_mass_mail.utm_source_weibo"),
        )
        self.assertIn("utm_source=weibo", self._link(links, "weibo").link_tracker_id.redirected_url)
        # Running the wizard again for the same post reuses the links.
        again = self._create_links()
        self.assertEqual(again, links - self._link(links, "douban"))

    def test_two_posts_same_url_kept_apart(self):
        first = self._create_links()
        wizard = self.env["fan.social.link.wizard"].create(
            {"name": "冬季课程", "url": POST_URL, "use_wechat": False, "use_xiaohongshu": False}
        )
        second = self.env["fan.social.link"].search(wizard.action_create_links()["domain"])
        self.assertEqual(len(second), 1)
        self.assertNotIn(second.link_tracker_id, first.link_tracker_id)

    def test_clicks_counted_per_channel(self):
        links = self._create_links()
        weibo = self._link(links, "weibo")
        wechat = self._link(links, "wechat")
        # The short link redirects and records the click.
        response = self.url_open(f"/r/{weibo.link_tracker_id.code}", allow_redirects=False)
        self.assertIn(response.status_code, (301, 302, 303))
        Click = self.env["link.tracker.click"].sudo()
        Click.add_click(weibo.link_tracker_id.code, ip="127.0.0.2")
        Click.add_click(wechat.link_tracker_id.code, ip="127.0.0.3")
        self.env.flush_all()
        counts = dict(self.env["fan.social.click.report"]._read_group([], ["channel"], ["__count"]))
        self.assertEqual(counts, {"weibo": 2, "wechat": 1})
        self.assertEqual(weibo.click_count, 2)
        dashboard = self.env["fan.dashboard"].create({})
        self.assertEqual(dashboard.social_click_30_count, 3)

    def test_no_channel_rejected(self):
        wizard = self.env["fan.social.link.wizard"].create(
            {
                "name": "x",
                "url": POST_URL,
                "use_weibo": False,
                "use_wechat": False,
                "use_xiaohongshu": False,
            }
        )
        with self.assertRaises(UserError):
            wizard.action_create_links()
