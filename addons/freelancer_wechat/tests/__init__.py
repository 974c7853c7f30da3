from . import (
    test_callback,
    test_callback_safe,
    test_follower_sync,
    test_material,
    test_mass_send,
    test_menu_button,
    test_message_types,
    test_privacy,
    test_reply_media,
    test_reply_rule,
    test_reply_wizard,
    test_tours,
    test_wechat_api,
    test_wechat_models,
    test_wechat_stat,
    test_wechat_tag,
)
from . import test_late_reply
