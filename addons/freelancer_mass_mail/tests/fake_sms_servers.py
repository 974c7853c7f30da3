"""Fake Aliyun SMS and Tencent Cloud SMS APIs: real HTTP servers on 127.0.0.1.

They check what the providers check (signature, required parameters, reused
nonces), respond with the providers' success and error shapes, and record the
numbers and texts received. Set ``mode`` to ``"error"`` for a business error
or ``"timeout"`` to answer after ``delay`` seconds. The signatures are
computed here independently of the client code under test.

They also answer the status queries (Aliyun QuerySendDetails, Tencent Cloud
PullSmsSendStatusByPhoneNumber) from the messages received. Each message is
delivered unless ``report_status`` maps its number to ``"failed"`` or to
``"waiting"`` (no delivery report yet).
"""

import base64
import datetime
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Aliyun lists messages under their send date in China Standard Time.
CHINA_TZ = datetime.timezone(datetime.timedelta(hours=8))


class FakeSmsServer:
    """Base of the fake servers: start with ``start()``, stop with ``stop()``."""

    def __init__(self, key_id, key_secret):
        self.key_id = key_id
        self.key_secret = key_secret
        self.mode = "ok"
        self.delay = 2.0
        self.fail_numbers = set()
        self.received = []  # dicts with "number", "text", "sign_name"
        self.rejected = []  # reasons of the requests rejected before sending
        self.report_status = {}  # number: "failed" or "waiting"; others are delivered
        self.queries = []  # numbers looked up by status queries
        self.httpd = None
        self.thread = None

    @property
    def url(self):
        host, port = self.httpd.server_address
        return f"http://{host}:{port}"

    def start(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, answer = server.handle(self.headers, body)
                if server.mode == "timeout":
                    time.sleep(server.delay)
                data = json.dumps(answer, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    # The client stopped waiting (timeout mode), so the response is dropped.
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def reject(self, reason):
        self.rejected.append(reason)

    def handle(self, headers, body):
        raise NotImplementedError


class FakeAliyunSms(FakeSmsServer):
    """dysmsapi 2017-05-25 SendSms and QuerySendDetails with RPC signature v1 (HMAC-SHA1)."""

    COMMON = (
        "AccessKeyId",
        "Action",
        "Format",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureVersion",
        "Timestamp",
        "Version",
        "Signature",
    )
    REQUIRED = {
        "SendSms": ("PhoneNumbers", "SignName", "TemplateCode"),
        "QuerySendDetails": ("PhoneNumber", "SendDate", "PageSize", "CurrentPage"),
    }
    # SendStatus of QuerySendDetails: 1 waiting for the receipt, 2 failed, 3 delivered.
    SEND_STATUS = {"waiting": (1, ""), "failed": (2, "MK:0001")}

    def __init__(self, key_id, key_secret):
        super().__init__(key_id, key_secret)
        self.nonces = set()

    @staticmethod
    def _encode(value):
        return urllib.parse.quote(value, safe="~")

    def _signature(self, params):
        query = "&".join(
            f"{self._encode(k)}={self._encode(v)}"
            for k, v in sorted(params.items())
            if k != "Signature"
        )
        text = "POST&%2F&" + self._encode(query)
        key = (self.key_secret + "&").encode()
        return base64.b64encode(hmac.new(key, text.encode(), hashlib.sha1).digest()).decode()

    def _error(self, status, code, message):
        self.reject(code)
        return status, {"RequestId": str(uuid.uuid4()), "Code": code, "Message": message}

    def handle(self, headers, body):
        params = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        action = params.get("Action")
        if action not in self.REQUIRED or params.get("Version") != "2017-05-25":
            return self._error(404, "InvalidAction.NotFound", "Specified api is not found")
        missing = [name for name in self.COMMON + self.REQUIRED[action] if not params.get(name)]
        if missing:
            return self._error(400, "MissingParameter", f"missing {', '.join(missing)}")
        if params["AccessKeyId"] != self.key_id:
            return self._error(
                404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
            )
        if not hmac.compare_digest(params["Signature"], self._signature(params)):
            return self._error(400, "SignatureDoesNotMatch", "Specified signature is not matched.")

        if params["SignatureNonce"] in self.nonces:
            return self._error(
                400, "SignatureNonceUsed", "Specified signature nonce was used already."
            )
        self.nonces.add(params["SignatureNonce"])
        if action == "QuerySendDetails":
            return self._query_send_details(params)
        return self._send_sms(params)

    def _send_sms(self, params):
        try:
            template_params = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return self._error(200, "isv.INVALID_JSON_PARAM", "JSON parameter is invalid")

        if self.mode == "error":
            return self._error(200, "isv.BUSINESS_LIMIT_CONTROL", "触发号码天级流控Permits:10")

        numbers = params["PhoneNumbers"].split(",")
        if self.fail_numbers & set(numbers):
            return self._error(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        biz_id = f"{len(self.received) + 1}^{uuid.uuid4().int % 10**12}"
        for number in numbers:
            self.received.append(
                {
                    "number": number,
                    "text": "".join(str(v) for v in template_params.values()),
                    "sign_name": params["SignName"],
                    "out_id": params.get("OutId"),
                    "biz_id": biz_id,
                    "template_code": params["TemplateCode"],
                    "sent_at": time.time(),
                }
            )
        return 200, {"Code": "OK", "Message": "OK", "RequestId": str(uuid.uuid4()), "BizId": biz_id}

    def _query_send_details(self, params):
        number = params["PhoneNumber"]
        self.queries.append(number)
        page_size, page = int(params["PageSize"]), int(params["CurrentPage"])
        if not 1 <= page_size <= 50:
            return self._error(200, "isv.InvalidParameter", "PageSize must be 1 to 50")
        records = [
            record
            for record in self.received
            if record["number"] == number
            and datetime.datetime.fromtimestamp(record["sent_at"], CHINA_TZ).strftime("%Y%m%d")
            == params["SendDate"]
            and (not params.get("BizId") or record["biz_id"] == params["BizId"])
        ]
        details = []
        for record in records[(page - 1) * page_size : page * page_size]:
            send_status, err_code = self.SEND_STATUS.get(
                self.report_status.get(number), (3, "DELIVERED")
            )
            sent_at = datetime.datetime.fromtimestamp(record["sent_at"], CHINA_TZ)
            details.append(
                {
                    "PhoneNum": number,
                    "SendStatus": send_status,
                    "ErrCode": err_code,
                    "TemplateCode": record["template_code"],
                    "Content": f"【{record['sign_name']}】{record['text']}",
                    "SendDate": sent_at.strftime("%Y-%m-%d %H:%M:%S"),
                    "ReceiveDate": sent_at.strftime("%Y-%m-%d %H:%M:%S"),
                    "OutId": record["out_id"],
                }
            )
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "RequestId": str(uuid.uuid4()),
            "TotalCount": str(len(records)),
            "SmsSendDetailDTOs": {"SmsSendDetailDTO": details},
        }


class FakeTencentSms(FakeSmsServer):
    """Tencent Cloud SMS 2021-01-11 SendSms and PullSmsSendStatusByPhoneNumber (TC3-HMAC-SHA256)."""

    REQUIRED = {
        "SendSms": ("PhoneNumberSet", "SmsSdkAppId", "TemplateId"),
        "PullSmsSendStatusByPhoneNumber": ("BeginTime", "Limit", "PhoneNumber", "SmsSdkAppId"),
    }

    def _authorization(self, headers, body):
        timestamp = int(headers["X-TC-Timestamp"])
        date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
        canonical = "POST\n/\n\ncontent-type:{}\nhost:{}\n\ncontent-type;host\n{}".format(
            headers["Content-Type"], headers["Host"], hashlib.sha256(body).hexdigest()
        )
        scope = f"{date}/sms/tc3_request"
        text = (
            f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n"
            + hashlib.sha256(canonical.encode()).hexdigest()
        )
        key = hmac.new(("TC3" + self.key_secret).encode(), date.encode(), hashlib.sha256).digest()
        key = hmac.new(key, b"sms", hashlib.sha256).digest()
        key = hmac.new(key, b"tc3_request", hashlib.sha256).digest()
        signature = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        return (
            f"TC3-HMAC-SHA256 Credential={self.key_id}/{scope}, "
            f"SignedHeaders=content-type;host, Signature={signature}"
        )

    def _error(self, code, message):
        self.reject(code)
        return 200, {
            "Response": {
                "Error": {"Code": code, "Message": message},
                "RequestId": str(uuid.uuid4()),
            }
        }

    def handle(self, headers, body):
        for name in ("Authorization", "X-TC-Action", "X-TC-Timestamp", "X-TC-Version", "Host"):
            if not headers.get(name):
                return self._error("MissingParameter", f"missing header {name}")
        action = headers["X-TC-Action"]
        if action not in self.REQUIRED or headers["X-TC-Version"] != "2021-01-11":
            return self._error("InvalidAction", "action or version not found")
        if abs(int(headers["X-TC-Timestamp"]) - time.time()) > 300:
            return self._error("AuthFailure.SignatureExpire", "signature expired")
        if not hmac.compare_digest(headers["Authorization"], self._authorization(headers, body)):
            return self._error("AuthFailure.SignatureFailure", "signature verification failed")

        payload = json.loads(body)
        for name in self.REQUIRED[action]:
            if not payload.get(name):
                return self._error("MissingParameter", f"missing {name}")
        if action == "PullSmsSendStatusByPhoneNumber":
            return self._pull_status(payload)
        return self._send_sms(payload)

    def _send_sms(self, payload):
        if self.mode == "error":
            return self._error(
                "FailedOperation.InsufficientBalanceInSmsPackage", "insufficient balance"
            )

        statuses = []
        for number in payload["PhoneNumberSet"]:
            if number in self.fail_numbers:
                statuses.append(
                    {
                        "SerialNo": "",
                        "PhoneNumber": number,
                        "Fee": 0,
                        "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                        "Message": "incorrect phone number",
                        "IsoCode": "CN",
                    }
                )
                continue
            serial_no = f"2433:{uuid.uuid4().int % 10**15}"
            self.received.append(
                {
                    "number": number,
                    "text": "".join(payload.get("TemplateParamSet") or []),
                    "sign_name": payload.get("SignName"),
                    "serial_no": serial_no,
                    "sent_at": time.time(),
                }
            )
            statuses.append(
                {
                    "SerialNo": serial_no,
                    "PhoneNumber": number,
                    "Fee": 1,
                    "Code": "Ok",
                    "Message": "send success",
                    "IsoCode": "CN",
                }
            )
        return 200, {"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}}

    def _pull_status(self, payload):
        number = payload["PhoneNumber"]
        self.queries.append(number)
        if payload.get("Offset") != 0:
            return self._error("InvalidParameterValue", "Offset is required and must be 0")
        if payload["BeginTime"] < time.time() - 7 * 24 * 3600:
            return self._error("InvalidParameterValue", "BeginTime older than 7 days")
        end_time = payload.get("EndTime") or time.time()
        reports = []
        for record in self.received:
            status = self.report_status.get(number)
            if record["number"] != number or status == "waiting":
                continue
            receive_time = int(record["sent_at"])
            if not payload["BeginTime"] <= receive_time <= end_time:
                continue
            reports.append(
                {
                    "UserReceiveTime": receive_time,
                    "CountryCode": "86",
                    "SubscriberNumber": number.removeprefix("+86"),
                    "PhoneNumber": number,
                    "SerialNo": record["serial_no"],
                    "ReportStatus": "FAIL" if status == "failed" else "SUCCESS",
                    "Description": "UNDELIV" if status == "failed" else "DELIVRD",
                    "SessionContext": "",
                }
            )
        return 200, {
            "Response": {
                "PullSmsSendStatusSet": reports[: payload["Limit"]],
                "RequestId": str(uuid.uuid4()),
            }
        }
