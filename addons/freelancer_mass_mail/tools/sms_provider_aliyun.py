"""Aliyun SMS (dysmsapi 2017-05-25) client and push parsers.

API reference: https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms
and https://help.aliyun.com/document_detail/419277.html (QuerySendDetails).
"""

import base64
import datetime
import hashlib
import hmac
import json
import urllib.parse
import uuid as uuid_lib

import pytz
import requests

from .sms_provider_common import (
    QUERY_DELIVERED,
    QUERY_FAILED,
    QUERY_NOT_FOUND,
    QUERY_NOT_SENT,
    QUERY_SENT,
    QUERY_UNDELIVERED,
    STATE_SUCCESS,
    FanSmsApiBase,
    e164_from_parts,
    split_signature,
)

# Aliyun error codes mapped to Odoo failure types. Other codes, such as the
# rate limits isv.BUSINESS_LIMIT_CONTROL and isv.DAY_LIMIT_CONTROL, become
# "Server Error" with the code in the failure reason.
NUMBER_ERRORS = {"isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT"}
ACCOUNT_ERRORS = {
    "isv.ACCOUNT_NOT_EXISTS",
    "isv.ACCOUNT_ABNORMAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.SMS_TEMPLATE_ILLEGAL",
    "InvalidAccessKeyId.NotFound",
    "SignatureDoesNotMatch",
}
CREDIT_ERRORS = {"isv.AMOUNT_NOT_ENOUGH", "isv.OUT_OF_SERVICE"}

# QuerySendDetails: at most 50 records a page, records of the last 30 days.
# SendStatus 1 is waiting for the carrier's receipt, 2 failed, 3 delivered.
QUERY_PAGE_SIZE = 50
QUERY_MAX_PAGES = 20
QUERY_MAX_AGE = datetime.timedelta(days=30)
QUERY_SEND_STATUS = {1: QUERY_SENT, 2: QUERY_UNDELIVERED, 3: QUERY_DELIVERED}
# NOTE: Aliyun gives SendDate as yyyyMMdd without a time zone. It is read as
# China Standard Time here (unverified), so a request made in the last minutes
# of a day is also looked up on the next day.
QUERY_TZ = pytz.timezone("Asia/Shanghai")
QUERY_DATE_MARGIN = datetime.timedelta(minutes=10)


def percent_encode(value):
    """Encode ``value`` as Aliyun's RPC signature requires (RFC 3986, UTF-8)."""
    return urllib.parse.quote(str(value), safe="~")


def sign_rpc_request(params, access_key_secret, method="POST"):
    """Return the RPC signature v1 (HMAC-SHA1, base64) of ``params``.

    The canonical query sorts the parameters by name and percent-encodes
    names and values. The string to sign is
    ``METHOD&%2F&percent_encode(canonical query)``, and the key is the
    AccessKey secret followed by ``&``.
    """
    canonical = "&".join(
        f"{percent_encode(key)}={percent_encode(params[key])}" for key in sorted(params)
    )
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(
        f"{access_key_secret}&".encode(), string_to_sign.encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


def aliyun_phone_number(e164):
    """Return a number as Aliyun expects it: mainland numbers without +86, others without +."""
    if e164.startswith("+86"):
        return e164[3:]
    return e164.lstrip("+")


def query_send_dates(requested_at):
    """Return the SendDate values (yyyyMMdd) that list a request made at ``requested_at``.

    ``requested_at`` is a naive UTC datetime.
    """
    dates = []
    for moment in (requested_at, requested_at + QUERY_DATE_MARGIN):
        local = pytz.utc.localize(moment).astimezone(QUERY_TZ).strftime("%Y%m%d")
        if local not in dates:
            dates.append(local)
    return dates


class SmsApiAliyun(FanSmsApiBase):
    PROVIDER = "aliyun"
    DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com"
    DEFAULT_REGION = "cn-hangzhou"

    def _signed_params(self, config, action, api_params):
        """Return the form parameters of an RPC request with ``api_params``, signed."""
        params = {
            "AccessKeyId": config["key_id"],
            "Action": action,
            "Format": "JSON",
            "RegionId": config["region"] or self.DEFAULT_REGION,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid_lib.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
            **api_params,
        }
        params["Signature"] = sign_rpc_request(params, config["key_secret"])
        return params

    def _build_params(self, config, number, body, out_id):
        sign_name, text = split_signature(body, config["sign_name"])
        return self._signed_params(
            config,
            "SendSms",
            {
                "OutId": out_id,
                "PhoneNumbers": aliyun_phone_number(number),
                "SignName": sign_name,
                "TemplateCode": config["template_code"],
                "TemplateParam": json.dumps(
                    {config["template_param"]: text},
                    ensure_ascii=False,
                ),
            },
        )

    def _send_sms_batch(self, messages, delivery_reports_url=False):
        """Send each SMS with its own SendSms request.

        SendSms takes up to 1,000 numbers, but one invalid number fails the
        whole request and all numbers share one BizId. One request per SMS
        keeps a failure to its own SMS, and the SMS uuid goes as OutId, which
        Aliyun returns in delivery reports.
        """
        config = self._get_config()
        session = requests.Session()
        results = []
        for message in messages:
            for number_info in message.get("numbers") or []:
                number, uuid = number_info["number"], number_info["uuid"]
                params = self._build_params(config, number, message.get("content"), uuid)
                response, error_state = self._post(session, config["endpoint"] + "/", data=params)
                if response is None:
                    result = self._result(
                        uuid, error_state, self.env._("Aliyun SMS request failed or timed out")
                    )
                else:
                    result = self._parse_send_response(uuid, response)
                self._log_result(number, result)
                results.append(result)
        return results

    def _parse_send_response(self, uuid, response):
        try:
            payload = response.json()
        except ValueError:
            return self._result(
                uuid, "server_error", f"HTTP {response.status_code}: invalid JSON response"
            )
        code = payload.get("Code")
        if code == "OK":
            return self._result(uuid, STATE_SUCCESS, ref=payload.get("BizId"))
        reason = f"{code}: {payload.get('Message')} (RequestId {payload.get('RequestId')})"
        if code in NUMBER_ERRORS:
            state = "wrong_number_format"
        elif code in CREDIT_ERRORS:
            state = "sms_credit"
        elif code in ACCOUNT_ERRORS:
            state = "sms_acc"
        else:
            state = "server_error"
        return self._result(uuid, state, reason)

    # ------------------------------------------------------------
    # STATUS QUERY (QuerySendDetails)
    # ------------------------------------------------------------

    def _query_send_status(self, queries, known_refs=()):
        """Look each SMS up with QuerySendDetails, by number, send date and OutId.

        Aliyun lists every SendSms request it accepted, with the OutId sent
        (the SMS uuid), so an SMS missing from the list was not sent.
        """
        config = self._get_config()
        session = requests.Session()
        return [self._query_one(session, config, query) for query in queries]

    def _query_one(self, session, config, query):
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        if query["requested_at"] < now - QUERY_MAX_AGE:
            reason = self.env._("Older than the 30 days Aliyun keeps")
            return self._query_result(query, QUERY_NOT_FOUND, reason=reason)

        complete = True
        for send_date in query_send_dates(query["requested_at"]):
            for page in range(1, QUERY_MAX_PAGES + 1):
                payload, error = self._query_page(session, config, query, send_date, page)
                if error:
                    return self._query_result(query, QUERY_FAILED, reason=error)
                details = (payload.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
                match = next((d for d in details if d.get("OutId") == query["uuid"]), None)
                if not match and query.get("ref") and details:
                    # With BizId, Aliyun lists that message only, and its
                    # records carry no BizId to compare.
                    match = details[0]
                if match:
                    return self._query_detail_result(query, match)
                if page * QUERY_PAGE_SIZE >= int(payload.get("TotalCount") or 0):
                    break
            else:
                complete = False

        if not complete:
            reason = self.env._(
                "Not among the first %(count)s messages of the day",
                count=QUERY_PAGE_SIZE * QUERY_MAX_PAGES,
            )
            return self._query_result(query, QUERY_NOT_FOUND, reason=reason)
        reason = self.env._("Aliyun has no record of this SMS")
        return self._query_result(query, QUERY_NOT_SENT, reason=reason)

    def _query_page(self, session, config, query, send_date, page):
        """Return ``(payload, error)`` of one QuerySendDetails page."""
        api_params = {
            "CurrentPage": page,
            "PageSize": QUERY_PAGE_SIZE,
            "PhoneNumber": aliyun_phone_number(query["number"]),
            "SendDate": send_date,
        }
        if query.get("ref"):
            api_params["BizId"] = query["ref"]
        params = self._signed_params(config, "QuerySendDetails", api_params)
        response, _error_state = self._post(session, config["endpoint"] + "/", data=params)
        if response is None:
            return None, self.env._("Aliyun SMS status query failed or timed out")
        try:
            payload = response.json()
        except ValueError:
            return None, f"HTTP {response.status_code}: invalid JSON response"
        if payload.get("Code") != "OK":
            request_id = payload.get("RequestId")
            return None, f"{payload.get('Code')}: {payload.get('Message')} (RequestId {request_id})"
        return payload, None

    def _query_detail_result(self, query, detail):
        status = QUERY_SEND_STATUS.get(int(detail.get("SendStatus") or 0), QUERY_NOT_FOUND)
        reason = False
        if status == QUERY_UNDELIVERED:
            reason = f"{detail.get('ErrCode')}"
        return self._query_result(query, status, reason=reason)


def parse_delivery_reports(payload):
    """Return the delivery reports of an Aliyun SmsReport push as dicts.

    Each dict has ``uuid`` (our OutId), ``ref`` (BizId), ``number`` (E.164),
    ``delivered`` and ``reason``.
    """
    reports = []
    for item in payload if isinstance(payload, list) else [payload]:
        if not isinstance(item, dict):
            continue
        delivered = item.get("success") in (True, "true", "True")
        reports.append(
            {
                "uuid": item.get("out_id") or False,
                "ref": item.get("biz_id") or False,
                "number": e164_from_parts(item.get("phone_number")),
                "delivered": delivered,
                "reason": False if delivered else f"{item.get('err_code')}: {item.get('err_msg')}",
            }
        )
    return reports


def parse_replies(payload):
    """Return the replies of an Aliyun SmsUp push as ``(number, text)`` pairs."""
    replies = []
    for item in payload if isinstance(payload, list) else [payload]:
        if isinstance(item, dict) and item.get("phone_number"):
            replies.append((e164_from_parts(item["phone_number"]), item.get("content") or ""))
    return replies


# Response body that acknowledges a push, so Aliyun does not push it again.
PUSH_ACK = {"code": 0, "msg": "成功"}
