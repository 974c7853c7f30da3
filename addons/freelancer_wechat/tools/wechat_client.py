"""wechatpy client bound to one Official Account and its shared access token."""

import logging

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

_logger = logging.getLogger(__name__)

# errcodes after which a new access token is fetched and the call retried once:
# invalid credential, invalid access token, expired access token.
TOKEN_ERRCODES = (40001, 40014, 42001)
# errcodes of a call rejected by a frequency or daily quota limit.
RATE_LIMIT_ERRCODES = (45009, 45011, 45047)
# errcode of an API the account is not allowed to call (unverified account).
UNAUTHORIZED_ERRCODE = 48001
# Seconds to wait for the WeChat API before giving up on a call.
API_TIMEOUT = 20


class TokenError(Exception):
    """The WeChat API rejected an access token request."""

    def __init__(self, errcode, errmsg):
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def fetch_token(base_url, app_id, secret, force_refresh=False, timeout=API_TIMEOUT):
    """Fetch a new access token and return ``(token, expires_in)``.

    ``cgi-bin/stable_token`` (POST, JSON) is tried first because WeChat
    recommends it: its token stays valid when another client fetches one.
    Without ``force_refresh`` it returns the current token while that is
    valid, so ``force_refresh`` is set only after WeChat rejected the token.
    ``cgi-bin/token`` is the fallback when the stable endpoint is missing or
    fails with an errcode other than a credential error. Raises TokenError,
    or ``requests.RequestException`` when the server cannot be reached.
    """
    base = base_url.rstrip("/")
    result = _post_json(
        f"{base}/cgi-bin/stable_token",
        {
            "grant_type": "client_credential",
            "appid": app_id,
            "secret": secret,
            "force_refresh": force_refresh,
        },
        timeout,
    )
    if result.get("access_token"):
        return result["access_token"], int(result.get("expires_in") or 7200)
    errcode = int(result.get("errcode") or 0)
    # 40013 invalid AppID, 40125 invalid AppSecret, 40164 IP not whitelisted:
    # the fallback would fail the same way.
    if errcode in (40013, 40125, 40164, UNAUTHORIZED_ERRCODE):
        raise TokenError(errcode, result.get("errmsg") or "")
    _logger.info(
        "WeChat stable_token failed for AppID %s (errcode %s), trying token", app_id, errcode
    )
    response = requests.get(
        f"{base}/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": app_id, "secret": secret},
        timeout=timeout,
    )
    result = _decode(response)
    if not result.get("access_token"):
        raise TokenError(int(result.get("errcode") or -1), result.get("errmsg") or "")
    return result["access_token"], int(result.get("expires_in") or 7200)


def _post_json(url, data, timeout):
    response = requests.post(url, json=data, timeout=timeout)
    if response.status_code == 404:
        return {"errcode": -404, "errmsg": "stable_token endpoint not found"}
    return _decode(response)


def _decode(response):
    try:
        result = response.json()
    except ValueError:
        return {"errcode": -1, "errmsg": f"HTTP {response.status_code}, not JSON"}
    return result if isinstance(result, dict) else {"errcode": -1, "errmsg": "not an object"}


# NOTE: WeChat takes the access token as a query parameter, so urllib3's DEBUG
# log of request lines contains it. Keep urllib3 above DEBUG in production.
class AccountClient(WeChatClient):
    """wechatpy ``WeChatClient`` whose API address and token come from Odoo.

    ``token_getter(force, stale_token)`` returns the shared access token;
    with ``force`` it fetches a new one unless another process already
    replaced ``stale_token``. The client itself never fetches a token, so
    wechatpy's per-process session storage plays no part.
    """

    def __init__(self, app_id, base_url, token_getter, timeout=API_TIMEOUT):
        # auto_retry is off because ``call`` retries with the shared token instead.
        super().__init__(app_id, secret=None, timeout=timeout, auto_retry=False)
        base = base_url.rstrip("/")
        self.API_BASE_URL = f"{base}/cgi-bin/"
        # The statistics API carries its own absolute base URL in wechatpy 1.8.18.
        self.datacube.API_BASE_URL = f"{base}/datacube/"
        self._token_getter = token_getter

    @property
    def access_token(self):
        return self._token_getter(False, None)

    def fetch_access_token(self):
        raise NotImplementedError("AccountClient gets its token from wechat.account")

    def call(self, function):
        """Return ``function(self)``, retried once with a new token on a token error."""
        try:
            return function(self)
        except WeChatClientException as error:
            if errcode_of(error) not in TOKEN_ERRCODES:
                raise
            stale = self.access_token
            _logger.info(
                "WeChat access token of AppID %s rejected (errcode %s); fetching a new one",
                self.appid,
                errcode_of(error),
            )
            self._token_getter(True, stale)
            return function(self)


def send_custom_message(client, openid, payload):
    """Send ``payload`` to ``openid`` as a customer-service message (message/custom/send).

    ``payload`` has the form that ``render_reply`` takes. WeChat accepts one
    article per customer-service message (errcode 45008 for more), so only
    the first article of a news payload is sent: by its ``article_id``
    (msgtype mpnewsarticle) when it has one, otherwise as a link card.
    Raises ValueError for an unknown type.
    """
    reply_type = payload.get("type")
    message = client.message
    if reply_type == "text":
        return message.send_text(openid, payload.get("content") or "")
    if reply_type == "image":
        return message.send_image(openid, payload["media_id"])
    if reply_type == "voice":
        return message.send_voice(openid, payload["media_id"])
    if reply_type == "video":
        return message.send_video(
            openid, payload["media_id"], payload.get("title"), payload.get("description")
        )
    if reply_type == "news":
        article = (payload.get("articles") or [{}])[0]
        if article.get("article_id"):
            # wechatpy 1.8.18 has no helper for mpnewsarticle.
            return client.post(
                "message/custom/send",
                data={
                    "touser": openid,
                    "msgtype": "mpnewsarticle",
                    "mpnewsarticle": {"article_id": article["article_id"]},
                },
            )
        return message.send_articles(openid, [article])
    raise ValueError(f"unknown reply type {reply_type!r}")


def errcode_of(error):
    """Return the integer errcode of a ``WeChatClientException``, or None."""
    try:
        return int(error.errcode)
    except (TypeError, ValueError):
        return None
