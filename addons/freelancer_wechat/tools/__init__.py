from .callback import (
    MAX_BODY_BYTES,
    MAX_TIMESTAMP_SKEW,
    CallbackError,
    check_timestamp,
    decode_body,
    escape_cdata,
    render_reply,
)
from .wechat_client import (
    RATE_LIMIT_ERRCODES,
    TOKEN_ERRCODES,
    UNAUTHORIZED_ERRCODE,
    AccountClient,
    TokenError,
    errcode_of,
    fetch_token,
    send_custom_message,
)
