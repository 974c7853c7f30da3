"""Fake Aliyun SMS and Tencent Cloud SMS APIs: real HTTP servers on 127.0.0.1.

They check what the providers check (signature, required parameters, reused
nonces), respond with the providers' success and error shapes, and record the
numbers and texts received. Set ``mode`` to ``"error"`` for a business error
or ``"timeout"`` to answer after ``delay`` seconds. The signatures are
computed here independently of the client code under test.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
    """dysmsapi 2017-05-25 SendSms with RPC signature v1 (HMAC-SHA1)."""

    REQUIRED = (
        "AccessKeyId",
        "Action",
        "Format",
        "PhoneNumbers",
        "SignName",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureVersion",
        "TemplateCode",
        "Timestamp",
        "Version",
        "Signature",
    )

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
        missing = [name for name in self.REQUIRED if not params.get(name)]
        if missing:
            return self._error(400, "MissingParameter", f"missing {', '.join(missing)}")
        if params["Action"] != "SendSms" or params["Version"] != "2017-05-25":
            return self._error(404, "InvalidAction.NotFound", "Specified api is not found")
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
        try:
            template_params = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return self._error(200, "isv.INVALID_JSON_PARAM", "JSON parameter is invalid")

        if self.mode == "error":
            return self._error(200, "isv.BUSINESS_LIMIT_CONTROL", "触发号码天级流控Permits:10")

        numbers = params["PhoneNumbers"].split(",")
        if self.fail_numbers & set(numbers):
            return self._error(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        for number in numbers:
            self.received.append(
                {
                    "number": number,
                    "text": "".join(str(v) for v in template_params.values()),
                    "sign_name": params["SignName"],
                    "out_id": params.get("OutId"),
                }
            )
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "RequestId": str(uuid.uuid4()),
            "BizId": f"{len(self.received)}^{uuid.uuid4().int % 10**12}",
        }


class FakeTencentSms(FakeSmsServer):
    """Tencent Cloud SMS 2021-01-11 SendSms with TC3-HMAC-SHA256."""

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
        if headers["X-TC-Action"] != "SendSms" or headers["X-TC-Version"] != "2021-01-11":
            return self._error("InvalidAction", "action or version not found")
        if abs(int(headers["X-TC-Timestamp"]) - time.time()) > 300:
            return self._error("AuthFailure.SignatureExpire", "signature expired")
        if not hmac.compare_digest(headers["Authorization"], self._authorization(headers, body)):
            return self._error("AuthFailure.SignatureFailure", "signature verification failed")

        payload = json.loads(body)
        for name in ("PhoneNumberSet", "SmsSdkAppId", "TemplateId"):
            if not payload.get(name):
                return self._error("MissingParameter", f"missing {name}")
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
            self.received.append(
                {
                    "number": number,
                    "text": "".join(payload.get("TemplateParamSet") or []),
                    "sign_name": payload.get("SignName"),
                }
            )
            statuses.append(
                {
                    "SerialNo": f"2433:{uuid.uuid4().int % 10**15}",
                    "PhoneNumber": number,
                    "Fee": 1,
                    "Code": "Ok",
                    "Message": "send success",
                    "IsoCode": "CN",
                }
            )
        return 200, {"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}}
