{
    "name": "Freelancer Cross-Channel Campaigns",
    "summary": "One message to a fan segment, each fan reached once on the channel "
    "they prefer and consented to, with a frequency cap across all channels",
    "version": "19.0.1.0.0",
    "category": "Marketing",
    "license": "LGPL-3",
    "author": "Freelancer Suite Developers",
    "depends": ["freelancer_mass_mail", "freelancer_wechat"],
    "data": [
        "security/ir.model.access.csv",
        "data/ir_config_parameter_data.xml",
        "data/ir_cron_data.xml",
        "views/fan_campaign_views.xml",
        "views/freelancer_campaign_menus.xml",
    ],
    "assets": {
        "web.assets_tests": ["freelancer_campaign/static/tests/tours/**/*"],
    },
}
