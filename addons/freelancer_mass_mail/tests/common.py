from odoo.addons.mass_mailing.tests.common import MassMailCommon

UNSUBSCRIBE_FOOTER = '<p><a href="/unsubscribe_from_list">退订</a></p>'


class FanMassMailCommon(MassMailCommon):
    """Three fans in one segment: two consent to email and one withdrew. One consents to SMS."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.fan_granted, cls.fan_granted_2, cls.fan_withdrawn = Partner.create(
            [
                {
                    "name": "李文静",
                    "email": "wenjing@example.com",
                    "phone": "+8613800138001",
                    "is_fan": True,
                },
                {
                    "name": "王小明",
                    "email": "xiaoming@example.com",
                    "phone": "+8613800138002",
                    "is_fan": True,
                },
                {"name": "陈立", "email": "chenli@example.com", "is_fan": True},
            ]
        )
        cls.customer_not_fan = Partner.create(
            {"name": "Not A Fan", "email": "customer@example.com"}
        )
        cls.customer_not_fan._fan_record_consent("email", "grant", "manual")
        for partner in cls.fan_granted | cls.fan_granted_2 | cls.fan_withdrawn:
            partner._fan_record_consent("email", "grant", "double_optin", address=partner.email)
        cls.fan_granted._fan_record_consent("sms", "grant", "web_form", address="+8613800138001")
        cls.fan_withdrawn._fan_record_consent("email", "withdraw", "manual")
        emails = (cls.fan_granted | cls.fan_granted_2 | cls.fan_withdrawn).mapped("email")
        cls.segment = cls.env["fan.segment"].create(
            {"name": "Test segment", "extra_domain": repr([("email", "in", emails)])}
        )
        cls.env.flush_all()

    @classmethod
    def _create_fan_mailing(cls, **values):
        vals = {
            "subject": "秋季手作课程上线",
            "mailing_type": "mail",
            "fan_segment_id": cls.segment.id,
            "body_html": "<p>你好,秋季课程开放报名。</p>" + UNSUBSCRIBE_FOOTER,
            "body_arch": "<p>你好,秋季课程开放报名。</p>" + UNSUBSCRIBE_FOOTER,
        }
        vals.update(values)
        return cls.env["mailing.mailing"].create(vals)
