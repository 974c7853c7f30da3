from . import wechat_reply_wizard
