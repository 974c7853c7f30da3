"""Tencent Cloud SMS (API 2021-01-11) client and push parsers.

API reference: https://cloud.tencent.com/document/api/382/55981 (SendSms),
https://www.tencentcloud.com/document/api/382/40518 (PullSmsSendStatusByPhoneNumber)
and https://cloud.tencent.com/document/api/382/52072 (TC3-HMAC-SHA256 signature).
"""

import calendar
import datetime
import hashlib
import hmac
import json
import time
import urllib.parse

import requests

from odoo.tools import split_every

from .sms_provider_common import (
    QUERY_DELIVERED,
    QUERY_FAILED,
    QUERY_NOT_FOUND,
    QUERY_UNDELIVERED,
    STATE_SUCCESS,
    FanSmsApiBase,
    e164_from_parts,
    split_signature,
)

SERVICE = "sms"
API_VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"
# SendSms accepts at most 200 numbers per request.
MAX_NUMBERS_PER_REQUEST = 200
# PullSmsSendStatusByPhoneNumber returns at most 100 reports per call (its
# Offset is fixed at 0) and reaches back at most 7 days.
PULL_LIMIT = 100
PULL_MAX_AGE = 7 * 24 * 3600
# Seconds of clock difference allowed between Odoo and Tencent Cloud when a
# report's receive time is compared with the request time.
REPORT_TIME_MARGIN = 60

NUMBER_ERRORS = {
    "InvalidParameterValue.IncorrectPhoneNumber",
    "FailedOperation.PhoneNumberInBlacklist",
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
}
CREDIT_ERRORS = {"FailedOperation.InsufficientBalanceInSmsPackage"}
ACCOUNT_ERRORS = {
    "AuthFailure.SecretIdNotFound",
    "AuthFailure.SignatureFailure",
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.TemplateIncorrectOrUnapproved",
}


def _hmac_sha256(key, message):
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def tc3_authorization(secret_id, secret_key, host, payload, timestamp, service=SERVICE):
    """Return the ``Authorization`` header of a TC3-HMAC-SHA256 signed POST to ``/``.

    The signed headers are content-type and host. The signing key is derived
    from ``"TC3" + secret_key`` through the UTC date, the service and
    ``tc3_request``.
    """
    date = datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d")
    canonical_headers = f"content-type:{CONTENT_TYPE}\nhost:{host}\n"
    signed_headers = "content-type;host"
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            canonical_headers,
            signed_headers,
            hashlib.sha256(payload.encode()).hexdigest(),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    secret_date = _hmac_sha256(f"TC3{secret_key}".encode(), date)
    secret_signing = _hmac_sha256(_hmac_sha256(secret_date, service), "tc3_request")
    signature = hmac.new(secret_signing, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )


class SmsApiTencent(FanSmsApiBase):
    PROVIDER = "tencent"
    DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com"
    DEFAULT_REGION = "ap-guangzhou"

    def _send_sms_batch(self, messages, delivery_reports_url=False):
        """Send each message body in SendSms requests of up to 200 numbers.

        Tencent Cloud returns one status per number, each with its own
        SerialNo, which delivery reports carry as ``sid``.
        """
        config = self._get_config()
        session = requests.Session()
        results = []
        for message in messages:
            for numbers in split_every(MAX_NUMBERS_PER_REQUEST, message.get("numbers") or []):
                results += self._send_request(session, config, message.get("content"), numbers)
        return results

    def _call(self, session, config, action, params):
        """POST a signed API 3.0 request, returning ``(response, error_state)`` like ``_post``."""
        payload = json.dumps(params, ensure_ascii=False)
        timestamp = int(time.time())
        host = urllib.parse.urlsplit(config["endpoint"]).netloc
        headers = {
            "Authorization": tc3_authorization(
                config["key_id"], config["key_secret"], host, payload, timestamp
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": action,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": API_VERSION,
            "X-TC-Region": config["region"] or self.DEFAULT_REGION,
        }
        return self._post(session, config["endpoint"] + "/", data=payload.encode(), headers=headers)

    def _send_request(self, session, config, body, numbers):
        sign_name, text = split_signature(body, config["sign_name"])
        params = {
            "PhoneNumberSet": [info["number"] for info in numbers],
            "SmsSdkAppId": config["app_id"],
            "SignName": sign_name,
            "TemplateId": config["template_code"],
            "TemplateParamSet": [text],
        }
        response, error_state = self._call(session, config, "SendSms", params)
        if response is None:
            reason = self.env._("Tencent Cloud SMS request failed or timed out")
            results = [self._result(info["uuid"], error_state, reason) for info in numbers]
        else:
            results = self._parse_send_response(numbers, response)
        for info, result in zip(numbers, results, strict=True):
            self._log_result(info["number"], result)
        return results

    def _parse_send_response(self, numbers, response):
        try:
            response_body = response.json()["Response"]
        except (ValueError, KeyError, TypeError):
            reason = f"HTTP {response.status_code}: invalid response"
            return [self._result(info["uuid"], "server_error", reason) for info in numbers]
        if "Error" in response_body:
            error = response_body["Error"]
            state = self._code_to_state(error.get("Code"))
            request_id = response_body.get("RequestId")
            reason = f"{error.get('Code')}: {error.get('Message')} (RequestId {request_id})"
            return [self._result(info["uuid"], state, reason) for info in numbers]

        statuses = {
            status.get("PhoneNumber"): status for status in response_body.get("SendStatusSet") or []
        }
        results = []
        for info in numbers:
            status = statuses.get(info["number"])
            if not status:
                # The request was accepted, but this number got no status.
                results.append(
                    self._result(
                        info["uuid"],
                        "fan_sms_outcome_unknown",
                        f"No status for this number (RequestId {response_body.get('RequestId')})",
                    )
                )
            elif status.get("Code") == "Ok":
                results.append(
                    self._result(info["uuid"], STATE_SUCCESS, ref=status.get("SerialNo"))
                )
            else:
                results.append(
                    self._result(
                        info["uuid"],
                        self._code_to_state(status.get("Code")),
                        f"{status.get('Code')}: {status.get('Message')}",
                    )
                )
        return results

    @staticmethod
    def _code_to_state(code):
        if code in NUMBER_ERRORS:
            return "wrong_number_format"
        if code in CREDIT_ERRORS:
            return "sms_credit"
        if code in ACCOUNT_ERRORS:
            return "sms_acc"
        return "server_error"

    # ------------------------------------------------------------
    # STATUS QUERY (PullSmsSendStatusByPhoneNumber)
    # ------------------------------------------------------------

    def _query_send_status(self, queries, known_refs=()):
        """Match the SMS to the delivery reports pulled for their numbers.

        A report is matched by SerialNo when the SMS has one. An SMS without
        one (its response was lost) gets the earliest report of its number
        received after its request whose SerialNo is not in ``known_refs``,
        the SerialNos of other SMS.

        NOTE: the pull returns delivery reports only, so an SMS that was sent
        but has no report yet, and one that was never sent, both come back as
        not found. An SMS sent to the same number from outside Odoo in the
        same period can be taken for the SMS without SerialNo.
        """
        config = self._get_config()
        session = requests.Session()
        results = {}
        claimed_refs = set(known_refs)
        queries_by_number = {}
        for query in sorted(queries, key=lambda q: q["requested_at"]):
            queries_by_number.setdefault(query["number"], []).append(query)
        for number, number_queries in queries_by_number.items():
            reports, error = self._pull_reports(session, config, number, number_queries)
            for query in number_queries:
                if error:
                    results[query["uuid"]] = self._query_result(query, QUERY_FAILED, reason=error)
                    continue
                report = self._match_report(query, reports, claimed_refs)
                if report:
                    claimed_refs.add(report["SerialNo"])
                    results[query["uuid"]] = self._report_result(query, report)
                else:
                    results[query["uuid"]] = self._query_result(
                        query,
                        QUERY_NOT_FOUND,
                        reason=self.env._("No delivery report from Tencent Cloud yet"),
                    )
        return [results[query["uuid"]] for query in queries]

    def _pull_reports(self, session, config, number, queries):
        """Return ``(reports, error)``: the reports of ``number`` since the first request."""
        now = int(time.time())
        begin = int(calendar.timegm(queries[0]["requested_at"].timetuple())) - REPORT_TIME_MARGIN
        if begin < now - PULL_MAX_AGE:
            return [], self.env._("Older than the 7 days Tencent Cloud reports can be pulled")
        params = {
            "BeginTime": begin,
            "EndTime": now,
            "Offset": 0,
            "Limit": PULL_LIMIT,
            "PhoneNumber": number,
            "SmsSdkAppId": config["app_id"],
        }
        response, _error_state = self._call(
            session, config, "PullSmsSendStatusByPhoneNumber", params
        )
        if response is None:
            return [], self.env._("Tencent Cloud SMS status query failed or timed out")
        try:
            response_body = response.json()["Response"]
        except (ValueError, KeyError, TypeError):
            return [], f"HTTP {response.status_code}: invalid response"
        if "Error" in response_body:
            error = response_body["Error"]
            request_id = response_body.get("RequestId")
            return [], f"{error.get('Code')}: {error.get('Message')} (RequestId {request_id})"
        reports = [
            report
            for report in response_body.get("PullSmsSendStatusSet") or []
            if report.get("SerialNo")
        ]
        return sorted(reports, key=lambda r: r.get("UserReceiveTime") or 0), None

    @staticmethod
    def _match_report(query, reports, claimed_refs):
        if query.get("ref"):
            return next((r for r in reports if r["SerialNo"] == query["ref"]), None)
        requested = calendar.timegm(query["requested_at"].timetuple()) - REPORT_TIME_MARGIN
        return next(
            (
                r
                for r in reports
                if r["SerialNo"] not in claimed_refs
                and (r.get("UserReceiveTime") or 0) >= requested
            ),
            None,
        )

    def _report_result(self, query, report):
        if report.get("ReportStatus") == "SUCCESS":
            return self._query_result(query, QUERY_DELIVERED, ref=report["SerialNo"])
        return self._query_result(
            query,
            QUERY_UNDELIVERED,
            ref=report["SerialNo"],
            reason=f"{report.get('Description')}",
        )


def parse_delivery_reports(payload):
    """Return the delivery reports of a Tencent Cloud status push as dicts.

    Each dict has ``uuid`` (always False: the push has no session context),
    ``ref`` (the SerialNo, pushed as ``sid``), ``number`` (E.164),
    ``delivered`` and ``reason``.
    """
    reports = []
    for item in payload if isinstance(payload, list) else [payload]:
        if not isinstance(item, dict):
            continue
        delivered = item.get("report_status") == "SUCCESS"
        reports.append(
            {
                "uuid": False,
                "ref": item.get("sid") or False,
                "number": e164_from_parts(item.get("mobile"), item.get("nationcode") or "86"),
                "delivered": delivered,
                "reason": False
                if delivered
                else f"{item.get('errmsg')}: {item.get('description')}",
            }
        )
    return reports


def parse_replies(payload):
    """Return the replies of a Tencent Cloud reply push as ``(number, text)`` pairs."""
    replies = []
    for item in payload if isinstance(payload, list) else [payload]:
        if isinstance(item, dict) and item.get("mobile"):
            number = e164_from_parts(item["mobile"], item.get("nationcode") or "86")
            replies.append((number, item.get("text") or ""))
    return replies


# Response body that acknowledges a push, so Tencent Cloud does not push it again.
PUSH_ACK = {"result": 0, "errmsg": "OK"}
