from . import test_callback, test_callback_safe, test_wechat_models
