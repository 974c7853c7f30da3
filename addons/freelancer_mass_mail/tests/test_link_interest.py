from odoo.tests import tagged

from .common import UNSUBSCRIBE_FOOTER, FanMassMailCommon

COURSE_URL = "https://example.com/courses/pottery"


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestFanLinkInterest(FanMassMailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tag_pottery = cls.env["res.partner.category"].create({"name": "陶艺"})
        body = f'<p>新课:<a href="{COURSE_URL}">陶艺入门</a></p>' + UNSUBSCRIBE_FOOTER
        cls.mailing = cls._create_fan_mailing(
            body_html=body,
            body_arch=body,
            fan_link_interest_ids=[
                (0, 0, {"url": "https://example.com/courses/", "tag_id": cls.tag_pottery.id})
            ],
        )

    def _send(self):
        with self.mock_mail_gateway(mail_unlink_sent=False):
            self.mailing.action_send_mail()
        tracker = self.env["link.tracker"].search(
            [("mass_mailing_id", "=", self.mailing.id), ("url", "=", COURSE_URL)]
        )
        self.assertEqual(len(tracker), 1)
        return tracker

    def _trace(self, partner):
        return self.mailing.mailing_trace_ids.filtered(lambda t: t.res_id == partner.id)

    def test_tracker_takes_rule_tag(self):
        tracker = self._send()
        self.assertEqual(tracker.fan_interest_tag_id, self.tag_pottery)

    def test_click_adds_tag_to_clicker_only(self):
        tracker = self._send()
        self.env["link.tracker.click"].sudo().add_click(
            tracker.code, ip="127.0.0.1", mailing_trace_id=self._trace(self.fan_granted).id
        )
        self.assertIn(self.tag_pottery, self.fan_granted.category_id)
        self.assertNotIn(self.tag_pottery, self.fan_granted_2.category_id)
        self.assertEqual(self._trace(self.fan_granted).trace_status, "open")
        # A second click keeps one tag and logs the click again.
        self.env["link.tracker.click"].sudo().add_click(
            tracker.code, ip="127.0.0.1", mailing_trace_id=self._trace(self.fan_granted).id
        )
        self.assertEqual(self.fan_granted.category_id.ids.count(self.tag_pottery.id), 1)

    def test_segment_by_clicked_tag(self):
        tracker = self._send()
        self.env["link.tracker.click"].sudo().add_click(
            tracker.code, ip="127.0.0.1", mailing_trace_id=self._trace(self.fan_granted_2).id
        )
        segment = self.env["fan.segment"].create(
            {"name": "陶艺爱好者", "category_ids": [(6, 0, self.tag_pottery.ids)]}
        )
        members = self.env["res.partner"].search(segment._get_partner_domain(channel="email"))
        self.assertEqual(members, self.fan_granted_2)

    def test_click_without_trace_tags_nobody(self):
        tracker = self._send()
        self.env["link.tracker.click"].sudo().add_click(tracker.code, ip="127.0.0.1")
        self.assertFalse(
            self.env["res.partner"].search([("category_id", "in", self.tag_pottery.ids)])
        )


@tagged("post_install", "-at_install")
class TestSegmentClickedLink(FanMassMailCommon):
    def test_segment_by_clicked_link(self):
        mailing = self._create_fan_mailing()
        link = self.env["link.tracker"].create({"url": "https://example.com/course"})
        other = self.env["link.tracker"].create({"url": "https://example.com/other"})
        traces = self.env["mailing.trace"].create(
            [
                {"model": "res.partner", "res_id": partner.id, "mass_mailing_id": mailing.id,
                 "email": partner.email, "trace_type": "mail"}
                for partner in (self.fan_granted, self.fan_granted_2)
            ]
        )  # fmt: skip
        self.env["link.tracker.click"].create(
            [
                {"link_id": link.id, "mailing_trace_id": traces[0].id, "ip": "127.0.0.1"},
                {"link_id": other.id, "mailing_trace_id": traces[1].id, "ip": "127.0.0.1"},
            ]
        )
        segment = self.env["fan.segment"].create(
            {"name": "点过课程链接", "clicked_link_id": link.id}
        )
        members = self.env["res.partner"].search(segment._get_partner_domain())
        self.assertIn(self.fan_granted, members)
        self.assertNotIn(self.fan_granted_2, members)
