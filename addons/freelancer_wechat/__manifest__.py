{
    "name": "Freelancer CRM: WeChat Official Account",
    "summary": "Receive WeChat Official Account messages and events, answer them with "
    "welcome, keyword and default replies, and keep each follower's fan profile",
    "version": "19.0.1.0.0",
    "category": "Marketing",
    "license": "LGPL-3",
    "author": "Freelancer Suite Developers",
    "website": "https://github.com/freelancer-suite/freelancer-suite",
    "depends": ["freelancer_crm"],
    "external_dependencies": {"python": ["wechatpy", "regex"]},
    "data": [
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/wechat_reply_rule_views.xml",
        "views/wechat_message_views.xml",
        "views/wechat_account_views.xml",
        "views/res_partner_views.xml",
        "views/wechat_tag_views.xml",
        "views/wechat_stat_views.xml",
        "views/wechat_article_views.xml",
        "wizard/wechat_reply_wizard_views.xml",
        "views/freelancer_wechat_menus.xml",
    ],
    "assets": {
        "web.assets_tests": ["freelancer_wechat/static/tests/tours/**/*"],
    },
    "demo": [
        "demo/wechat_account_demo.xml",
        "demo/wechat_reply_rule_demo.xml",
        "demo/wechat_message_demo.xml",
    ],
}
