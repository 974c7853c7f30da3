"""Aliyun SMS (dysmsapi 2017-05-25) client and push parsers.

API reference: https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms
"""

import base64
import datetime
import hashlib
import hmac
import json
import urllib.parse
import uuid as uuid_lib

import requests

from .sms_provider_common import (
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


class SmsApiAliyun(FanSmsApiBase):
    PROVIDER = "aliyun"
    DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com"
    DEFAULT_REGION = "cn-hangzhou"

    def _build_params(self, config, number, body, out_id):
        sign_name, text = split_signature(body, config["sign_name"])
        params = {
            "AccessKeyId": config["key_id"],
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": out_id,
            "PhoneNumbers": aliyun_phone_number(number),
            "RegionId": config["region"] or self.DEFAULT_REGION,
            "SignName": sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid_lib.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": config["template_code"],
            "TemplateParam": json.dumps(
                {config["template_param"]: text},
                ensure_ascii=False,
            ),
            "Timestamp": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = sign_rpc_request(params, config["key_secret"])
        return params

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
