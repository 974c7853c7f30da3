from . import fan_interaction, res_partner, wechat_account, wechat_message, wechat_reply_rule
