{
    "name": "Freelancer Mass Mailing: Fan Segments and Consent",
    "summary": "Email and SMS mailings to fan segments, resolved at send time with consent, "
    "one-click unsubscribe into the consent ledger, pre-send checklist and bounce suppression",
    "version": "19.0.1.0.0",
    "category": "Marketing/Email Marketing",
    "license": "LGPL-3",
    "author": "Freelancer Suite Developers",
    "website": "https://github.com/freelancer-suite/freelancer-suite",
    "depends": ["freelancer_crm", "mass_mailing", "mass_mailing_sms"],
    "external_dependencies": {"python": ["lxml", "pytz", "requests"]},
    "data": [
        "security/ir.model.access.csv",
        "data/ir_config_parameter_data.xml",
        "views/mailing_mailing_views.xml",
        "views/fan_segment_views.xml",
        "views/res_config_settings_views.xml",
        "views/fan_preference_templates.xml",
        "views/sms_provider_settings_views.xml",
        "security/fan_email_access.xml",
        "data/fan_email_cron_data.xml",
        "views/optin_templates.xml",
        "views/optin_views.xml",
        "views/res_config_settings_email_views.xml",
        "views/link_tracker_interest_views.xml",
        "data/utm_social_data.xml",
        "views/fan_social_link_views.xml",
        "views/mailing_send_time_views.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "freelancer_mass_mail/static/tests/tours/*.js",
        ],
    },
    "demo": [
        "demo/mailing_mailing_demo.xml",
    ],
}
