"""A fake WeChat Official Account API on 127.0.0.1 for tests and benchmarks.

It is a real HTTP server, so wechatpy's ``WeChatClient`` runs unchanged
against it. It implements the endpoints the addon uses with the limits of
the real API: 10,000 OpenIDs per ``user/get`` page, 100 per
``user/info/batchget``, 50 per ``tags/members/batchtagging``, 7 days per
``datacube/getusersummary``, 20 materials per ``material/batchget_material``
and one article per customer-service news message. It counts every call by
path and returns an errcode on request (``fail(path, errcode)``). Each mass
send keeps the OpenIDs it reached in ``mass_sends[clientmsgid]["openids"]``.
"""

import json
import threading
import time
from collections import Counter, defaultdict
from datetime import date
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PAGE_SIZE = 10000
BATCHGET_MAX = 100
TAGGING_MAX = 50
MAX_TAGS = 100
MAX_TAGS_PER_USER = 20
DATACUBE_MAX_DAYS = {"getusersummary": 7, "getusercumulate": 7}
MATERIAL_TYPES = ("image", "voice", "video", "thumb")
MATERIAL_PAGE_MAX = 20
CUSTOM_NEWS_MAX = 1
TOKEN_PATHS = ("/cgi-bin/token", "/cgi-bin/stable_token")

ERRMSG = {
    40001: "invalid credential, access_token is invalid or not latest",
    40013: "invalid appid",
    40032: "invalid openid list size",
    40004: "invalid media type",
    40007: "invalid media_id",
    41005: "media data missing",
    42001: "access_token expired",
    45008: "article size out of limit",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit",
    45059: "user has too many tags",
    45056: "too many tags",
    45065: "clientmsgid exist",
    47001: "data format error",
    48001: "api unauthorized",
    61501: "date range error",
}


class FakeWechatApi:
    """State and control of one fake API server.

    Use as a context manager, or call ``start()`` and ``stop()``. ``base_url``
    is the value for ``wechat.account.api_base_url``.
    """

    def __init__(self, app_id="wxfakeapp", secret="fake-secret", token_delay=0.0):
        self.app_id = app_id
        self.secret = secret
        # Seconds the token endpoints wait before responding, to widen race windows.
        self.token_delay = token_delay
        self.page_size = PAGE_SIZE
        self.lock = threading.Lock()
        self.calls = Counter()
        self.requests = []
        self.failures = defaultdict(list)
        self.valid_tokens = set()
        self.token_serial = 0
        self.followers = []
        self.users = {}
        self.tags = {}
        self.user_tags = defaultdict(set)
        self.next_tag_id = 100
        self.custom_messages = []
        self.drafts = {}
        self.published = []
        self.mass_sends = {}
        # msg_status that message/mass/get returns for each msg_id, SEND_SUCCESS if absent.
        self.mass_statuses = {}
        self.deleted_tags = []
        self.menus = []
        self.read_hours = {}
        # media_id -> material, in upload order, which batchget_material follows here.
        self.materials = {}
        self.material_serial = 0
        self.server = None
        self.thread = None

    # ------------------------------------------------------------
    # CONTROL
    # ------------------------------------------------------------

    def start(self):
        handler = type("Handler", (_Handler,), {"api": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def reset_counters(self):
        """Forget the calls counted and the failures queued so far."""
        with self.lock:
            self.calls.clear()
            self.requests.clear()
            self.failures.clear()

    def fail(self, path, errcode, times=1):
        """Return ``errcode`` for the next ``times`` calls of ``path``."""
        with self.lock:
            self.failures[path].extend([errcode] * times)

    def expire_tokens(self):
        """Void every token issued so far, as WeChat does after a refresh elsewhere."""
        with self.lock:
            self.valid_tokens.clear()

    def add_followers(self, count, prefix="oFake", unionid=True, unionid_prefix="uFake"):
        """Add ``count`` followers with 28-character OpenIDs and return them."""
        start = len(self.followers)
        added = []
        for index in range(start, start + count):
            openid = f"{prefix}{index:0{28 - len(prefix)}d}"
            user = {
                "subscribe": 1,
                "openid": openid,
                "language": "zh_CN",
                "subscribe_time": 1700000000 + index,
                "remark": "",
                "tagid_list": [],
                "subscribe_scene": "ADD_SCENE_QR_CODE",
            }
            if unionid:
                user["unionid"] = f"{unionid_prefix}{index:0{28 - len(unionid_prefix)}d}"
            self.users[openid] = user
            added.append(openid)
        self.followers.extend(added)
        return added

    def add_material(self, media_type, name, data=b"", title=None, introduction=None):
        """Store a permanent material as the WeChat back office would, and return it."""
        with self.lock:
            self.material_serial += 1
            media_id = f"MEDIA{media_type.upper()}{self.material_serial:06d}"
            material = {
                "media_id": media_id,
                "type": media_type,
                "name": name,
                "data": data,
                "title": title,
                "introduction": introduction,
                "update_time": int(time.time()),
                "url": "",
            }
            if media_type == "image":
                material["url"] = f"{self.base_url}/mmbiz/{media_id}.jpg"
            self.materials[media_id] = material
        return material

    # ------------------------------------------------------------
    # DISPATCH
    # ------------------------------------------------------------

    def handle(self, method, path, query, body):
        with self.lock:
            self.calls[path] += 1
            self.requests.append((method, path, query, body))
            queued = self.failures.get(path)
            errcode = queued.pop(0) if queued else None
        if errcode is not None:
            return _error(errcode)
        if path in TOKEN_PATHS:
            return self.issue_token(path, query, body)
        if query.get("access_token") not in self.valid_tokens:
            return _error(40001)
        name = path.strip("/").replace("/", "_").replace("-", "_")
        endpoint = getattr(self, f"api_{name}", None)
        if not endpoint:
            return {"errcode": 40066, "errmsg": f"invalid url {path}"}
        return endpoint(query, body)

    def issue_token(self, path, query, body):
        if self.token_delay:
            threading.Event().wait(self.token_delay)
        params = body if path.endswith("stable_token") else query
        if params.get("appid") != self.app_id or params.get("secret") != self.secret:
            return _error(40013)
        with self.lock:
            self.token_serial += 1
            token = f"FAKETOKEN{self.token_serial:06d}"
            self.valid_tokens.add(token)
        return {"access_token": token, "expires_in": 7200}

    # ------------------------------------------------------------
    # FOLLOWERS
    # ------------------------------------------------------------

    def api_cgi_bin_user_get(self, query, _body):
        start = 0
        next_openid = query.get("next_openid")
        if next_openid:
            start = self.followers.index(next_openid) + 1
        page = self.followers[start : start + self.page_size]
        result = {"total": len(self.followers), "count": len(page), "next_openid": ""}
        if page:
            result["data"] = {"openid": page}
            result["next_openid"] = page[-1]
        return result

    def api_cgi_bin_user_info_batchget(self, _query, body):
        user_list = body.get("user_list") or []
        if not user_list or len(user_list) > BATCHGET_MAX:
            return _error(40032)
        return {"user_info_list": [self._user_info(item["openid"]) for item in user_list]}

    def api_cgi_bin_user_info(self, query, _body):
        return self._user_info(query.get("openid"))

    def _user_info(self, openid):
        user = self.users.get(openid)
        if not user:
            return {"subscribe": 0, "openid": openid}
        return dict(user, tagid_list=sorted(self.user_tags[openid]))

    # ------------------------------------------------------------
    # TAGS
    # ------------------------------------------------------------

    def api_cgi_bin_tags_create(self, _query, body):
        name = body["tag"]["name"]
        with self.lock:
            if len(self.tags) >= MAX_TAGS:
                return _error(45056)
            if name in self.tags.values():
                return {"errcode": 45157, "errmsg": "invalid tag name"}
            self.next_tag_id += 1
            self.tags[self.next_tag_id] = name
            return {"tag": {"id": self.next_tag_id, "name": name}}

    def api_cgi_bin_tags_get(self, _query, _body):
        counts = Counter(tag for tags in self.user_tags.values() for tag in tags)
        return {
            "tags": [
                {"id": tag_id, "name": name, "count": counts[tag_id]}
                for tag_id, name in sorted(self.tags.items())
            ]
        }

    def _tagging_error(self, openids, tag_id):
        """Return WeChat's error for a (un)tagging call, or None when it is valid."""
        if not openids or len(openids) > TAGGING_MAX:
            return _error(40032)
        if tag_id not in self.tags:
            return {"errcode": 45159, "errmsg": "invalid tag id"}
        return None

    def api_cgi_bin_tags_members_batchtagging(self, _query, body):
        openids = body.get("openid_list") or []
        tag_id = body.get("tagid")
        error = self._tagging_error(openids, tag_id)
        if error:
            return error
        with self.lock:
            for openid in openids:
                if tag_id not in self.user_tags[openid]:
                    if len(self.user_tags[openid]) >= MAX_TAGS_PER_USER:
                        return _error(45059)
                    self.user_tags[openid].add(tag_id)
        return {"errcode": 0, "errmsg": "ok"}

    def api_cgi_bin_tags_members_batchuntagging(self, _query, body):
        openids = body.get("openid_list") or []
        tag_id = body.get("tagid")
        error = self._tagging_error(openids, tag_id)
        if error:
            return error
        with self.lock:
            for openid in openids:
                self.user_tags[openid].discard(tag_id)
        return {"errcode": 0, "errmsg": "ok"}

    def api_cgi_bin_tags_getidlist(self, _query, body):
        return {"tagid_list": sorted(self.user_tags[body.get("openid")])}

    def api_cgi_bin_tags_delete(self, _query, body):
        tag_id = (body.get("tag") or {}).get("id")
        with self.lock:
            if tag_id not in self.tags:
                return {"errcode": 45159, "errmsg": "invalid tag id"}
            del self.tags[tag_id]
            for tags in self.user_tags.values():
                tags.discard(tag_id)
            self.deleted_tags.append(tag_id)
        return {"errcode": 0, "errmsg": "ok"}

    # ------------------------------------------------------------
    # MESSAGES, DRAFTS, MENU
    # ------------------------------------------------------------

    def api_cgi_bin_message_custom_send(self, _query, body):
        if len((body.get("news") or {}).get("articles") or []) > CUSTOM_NEWS_MAX:
            return _error(45008)
        self.custom_messages.append(body)
        return {"errcode": 0, "errmsg": "ok"}

    def api_cgi_bin_draft_add(self, _query, body):
        media_id = f"DRAFT{len(self.drafts) + 1:04d}"
        self.drafts[media_id] = body.get("articles") or []
        return {"media_id": media_id}

    def api_cgi_bin_freepublish_submit(self, _query, body):
        if body.get("media_id") not in self.drafts:
            return {"errcode": 40007, "errmsg": "invalid media_id"}
        self.published.append(body["media_id"])
        return {"errcode": 0, "errmsg": "ok", "publish_id": 9000 + len(self.published)}

    def api_cgi_bin_freepublish_get(self, _query, body):
        index = int(body.get("publish_id") or 0) - 9001
        if not 0 <= index < len(self.published):
            return {"errcode": 48007, "errmsg": "invalid publish_id"}
        article_id = f"ARTICLE{index + 1:04d}"
        return {
            "publish_id": str(body["publish_id"]),
            "publish_status": 0,
            "article_id": article_id,
            "article_detail": {
                "count": 1,
                "item": [{"idx": 1, "article_url": f"{self.base_url}/s/{article_id}"}],
            },
            "fail_idx": [],
        }

    def api_cgi_bin_message_mass_sendall(self, _query, body):
        client_msg_id = body.get("clientmsgid")
        with self.lock:
            if client_msg_id and client_msg_id in self.mass_sends:
                msg_id = self.mass_sends[client_msg_id]["msg_id"]
                return dict(_error(45065), msg_id=msg_id)
            msg_id = 1000 + len(self.mass_sends) + 1
            # The OpenIDs the send reaches, resolved when it is submitted.
            target = body.get("filter") or {}
            if target.get("is_to_all"):
                openids = list(self.followers)
            else:
                tag_id = target.get("tag_id")
                openids = sorted(o for o, tags in self.user_tags.items() if tag_id in tags)
            self.mass_sends[client_msg_id or f"none{msg_id}"] = dict(
                body, msg_id=msg_id, openids=openids
            )
        return {
            "errcode": 0,
            "errmsg": "send job submission success",
            "msg_id": msg_id,
            "msg_data_id": msg_id * 10,
        }

    def api_cgi_bin_message_mass_get(self, _query, body):
        msg_id = int(body.get("msg_id") or 0)
        if msg_id not in {send["msg_id"] for send in self.mass_sends.values()}:
            return {"errcode": 40007, "errmsg": "invalid msg_id"}
        status = self.mass_statuses.get(msg_id, "SEND_SUCCESS")
        return {"msg_id": msg_id, "msg_status": status}

    def api_cgi_bin_menu_create(self, _query, body):
        self.menus.append(body)
        return {"errcode": 0, "errmsg": "ok"}

    # ------------------------------------------------------------
    # MATERIALS
    # ------------------------------------------------------------

    def api_cgi_bin_material_get_materialcount(self, _query, _body):
        counts = Counter(material["type"] for material in self.materials.values())
        return {
            "voice_count": counts["voice"],
            "video_count": counts["video"],
            "image_count": counts["image"],
            "news_count": 0,
        }

    def api_cgi_bin_material_batchget_material(self, _query, body):
        offset = int(body.get("offset") or 0)
        count = int(body.get("count") or 0)
        if body.get("type") not in ("image", "voice", "video", "news"):
            return _error(40004)
        if not 1 <= count <= MATERIAL_PAGE_MAX:
            return _error(47001)
        listed = [
            material for material in self.materials.values() if material["type"] == body["type"]
        ]
        page = listed[offset : offset + count]
        return {
            "total_count": len(listed),
            "item_count": len(page),
            "item": [
                {
                    "media_id": material["media_id"],
                    "name": material["name"],
                    "update_time": material["update_time"],
                    "url": material["url"],
                }
                for material in page
            ],
        }

    def api_cgi_bin_material_add_material(self, query, body):
        media_type = query.get("type")
        if media_type not in MATERIAL_TYPES:
            return _error(40004)
        media = body.get("media")
        if not isinstance(media, dict) or not media.get("data"):
            return _error(41005)
        title = introduction = None
        if media_type == "video":
            try:
                description = json.loads(query.get("description") or "")
            except ValueError:
                return _error(47001)
            title, introduction = description.get("title"), description.get("introduction")
            if not (title and introduction):
                return _error(47001)
        material = self.add_material(
            media_type, media["filename"], media["data"], title=title, introduction=introduction
        )
        result = {"media_id": material["media_id"]}
        if material["url"]:
            result["url"] = material["url"]
        return result

    def api_cgi_bin_material_del_material(self, _query, body):
        with self.lock:
            if not self.materials.pop(body.get("media_id"), None):
                return _error(40007)
        return {"errcode": 0, "errmsg": "ok"}

    # ------------------------------------------------------------
    # STATISTICS
    # ------------------------------------------------------------

    def _span(self, body, endpoint):
        begin = date.fromisoformat(body["begin_date"])
        end = date.fromisoformat(body["end_date"])
        if end < begin or (end - begin).days + 1 > DATACUBE_MAX_DAYS.get(endpoint, 1):
            return None
        return [date.fromordinal(day) for day in range(begin.toordinal(), end.toordinal() + 1)]

    def api_datacube_getusersummary(self, _query, body):
        days = self._span(body, "getusersummary")
        if days is None:
            return _error(61501)
        return {
            "list": [
                {"ref_date": day.isoformat(), "user_source": 0, "new_user": 3, "cancel_user": 1}
                for day in days
            ]
        }

    def api_datacube_getusercumulate(self, _query, body):
        days = self._span(body, "getusercumulate")
        if days is None:
            return _error(61501)
        return {
            "list": [{"ref_date": day.isoformat(), "cumulate_user": 100 + day.day} for day in days]
        }

    def api_datacube_getarticlesummary(self, _query, body):
        days = self._span(body, "getarticlesummary")
        if days is None:
            return _error(61501)
        return {
            "list": [
                {
                    "ref_date": day.isoformat(),
                    "msgid": "1000_1",
                    "title": "Spring pottery class",
                    "int_page_read_user": 40,
                    "int_page_read_count": 55,
                    "share_user": 4,
                    "share_count": 5,
                    "add_to_fav_user": 2,
                }
                for day in days
            ]
        }

    def api_datacube_getuserreadhour(self, _query, body):
        days = self._span(body, "getuserreadhour")
        if days is None:
            return _error(61501)
        rows = []
        for day in days:
            for hour, readers in self.read_hours.items():
                rows.append(
                    {
                        "ref_date": day.isoformat(),
                        "ref_hour": hour * 100,
                        "user_source": 0,
                        "int_page_read_user": readers,
                        "int_page_read_count": readers,
                    }
                )
        return {"list": rows}


def _error(errcode):
    return {"errcode": errcode, "errmsg": ERRMSG.get(errcode, "error")}


def _parse_multipart(content_type, raw):
    """Return the parts of a multipart/form-data body by field name.

    Each part is a dict with ``filename``, ``content_type`` and ``data`` (bytes).
    """
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        parts[name] = {
            "filename": part.get_filename(),
            "content_type": part.get_content_type(),
            "data": part.get_payload(decode=True),
        }
    return parts


class _Handler(BaseHTTPRequestHandler):
    api = None
    protocol_version = "HTTP/1.1"

    def _dispatch(self, method):
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        body = {}
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            raw = self.rfile.read(length)
            content_type = self.headers.get("Content-Type") or ""
            if content_type.startswith("multipart/form-data"):
                body = _parse_multipart(content_type, raw)
            else:
                try:
                    body = json.loads(raw.decode("utf-8"))
                except ValueError:
                    body = {}
        result = self.api.handle(method, url.path, query, body)
        payload = json.dumps(result, ensure_ascii=False).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def log_message(self, format, *args):
        pass
