from . import (
    fan_interaction,
    res_partner,
    wechat_access_token,
    wechat_account,
    wechat_account_api,
    wechat_article,
    wechat_mass_send,
    wechat_menu_button,
    wechat_message,
    wechat_reply_rule,
    wechat_stat,
    wechat_tag,
)
