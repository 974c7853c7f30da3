"""The main flow a freelancer lives through, against a real Odoo server.

Import fans from real-world CSV exports, welcome a WeChat follower in plain
and safe mode, score and tier everyone, then mail a segment through a real
SMTP server and unsubscribe with one click. The steps run in order and share
the database; each checks what the server committed.
"""

import base64
import hashlib
import time
import uuid
from xml.etree import ElementTree

import pytest
import requests
from wechatpy.crypto import WeChatCrypto

APP_ID = "wxe2e0000000000001"
TOKEN = "e2eToken2026"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues them
OPENID = "oE2E_fan_0000000000000001"

CSV_UTF8_BOM = (
    "姓名,手机,邮箱,城市\n"
    "陈晓明,138 0013 8000, ChenXM@Example.COM ,上海\n"
    "林雨桐,+86-13900139001,lin.yutong@example.com,杭州\n"
    "陈晓明,86 13800138000,,\n"  # the same person again, written another way
    "周若曦,86 137 0013 7002,  Zhou.RX@example.cn,成都\n"
    "老朋友,,old.friend@example.com,北京\n"  # already a contact before the import
)
CSV_GBK = (
    "姓名,手机号码,电子邮件\n"
    "郑浩然,0086 136 0013 6003,zheng.hr@example.com\n"
    "林雨桐,13900139001,\n"  # already imported from the first file
)

WELCOME = "欢迎关注手作小记!回复「课程」查看课程表。"
DEFAULT_REPLY = "收到你的留言,我会尽快回复。"
COURSE_REPLY = "本月课程:木勺入门、布艺背包。"


@pytest.fixture(scope="module")
def state():
    return {}


def signature(*parts):
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def wechat_event(event, openid=OPENID, **extra):
    fields = "".join(f"<{key}><![CDATA[{value}]]></{key}>" for key, value in extra.items())
    return (
        f"<xml><ToUserName><![CDATA[gh_e2e]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{fields}</xml>"
    )


def wechat_text(content, openid=OPENID):
    return (
        f"<xml><ToUserName><![CDATA[gh_e2e]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{uuid.uuid4().int % 10**18}</MsgId></xml>"
    )


def post_plain(url, xml, token=TOKEN):
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    params = {"signature": signature(token, timestamp, nonce), "timestamp": timestamp,
              "nonce": nonce, "openid": OPENID}  # fmt: skip
    return requests.post(url, params=params, data=xml.encode(), timeout=10)


def post_safe(url, xml):
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    envelope = crypto.encrypt_message(xml, nonce, timestamp)
    msg_signature = ElementTree.fromstring(envelope).findtext("MsgSignature")
    params = {"signature": signature(TOKEN, timestamp, nonce), "timestamp": timestamp,
              "nonce": nonce, "openid": OPENID, "encrypt_type": "aes",
              "msg_signature": msg_signature}  # fmt: skip
    response = requests.post(url, params=params, data=envelope.encode(), timeout=10)
    return response, crypto


def reply_content(xml_text):
    return ElementTree.fromstring(xml_text).findtext("Content")


def partner_by_openid(db, openid=OPENID):
    rows = db(
        "SELECT partner_id FROM fan_identity WHERE channel = 'wechat_openid' AND value = %s "
        "AND account_key = %s",
        [openid, APP_ID],
    )
    return rows[0][0] if rows else None


# ------------------------------------------------------------------------
# 1. Import
# ------------------------------------------------------------------------


def test_import_contact_lists(rpc, db, state):
    rpc("res.partner", "create", [{"name": "老朋友", "email": "Old.Friend@example.com"}])
    imported = []
    for name, content in (
        ("粉丝名单.csv", CSV_UTF8_BOM.encode("utf-8-sig")),
        ("活动签到.csv", CSV_GBK.encode("gbk")),
    ):
        import_id = rpc("fan.import", "create", {
            "file": base64.b64encode(content).decode(), "filename": name,
            "consent_basis": "proof", "consent_proof": "2026 秋季市集签到表",
        })  # fmt: skip
        rpc("fan.import", "action_import", [import_id])
        imported.append(import_id)
    state["imports"] = imported

    counts = db(
        "SELECT encoding, created_count, updated_count, duplicate_count, error_count "
        "FROM fan_import WHERE id = ANY(%s) ORDER BY id",
        [imported],
    )
    assert counts[0] == ("utf-8-sig", 3, 1, 1, 0)
    assert counts[1] == ("gb18030", 1, 1, 0, 0)

    rows = db(
        "SELECT name, email, phone, fan_mobile FROM res_partner "
        "WHERE fan_mobile = '+8613800138000' OR email_normalized = 'chenxm@example.com'"
    )
    assert rows == [("陈晓明", "chenxm@example.com", "+8613800138000", "+8613800138000")]
    assert db("SELECT count(*) FROM res_partner WHERE fan_mobile = '+8613900139001'") == [(1,)]
    assert db("SELECT phone FROM res_partner WHERE email_normalized = 'zhou.rx@example.cn'") == [
        ("+8613700137002",)
    ]
    assert db("SELECT phone FROM res_partner WHERE email_normalized = 'zheng.hr@example.com'") == [
        ("+8613600136003",)
    ]
    assert db(
        "SELECT count(*) FROM res_partner WHERE email_normalized = 'old.friend@example.com'"
    ) == [(1,)]

    ledger = db(
        "SELECT c.channel, c.action, c.source, c.proof, c.res_model FROM fan_consent c "
        "JOIN res_partner p ON p.id = c.partner_id WHERE p.email_normalized = 'chenxm@example.com' "
        "ORDER BY c.channel"
    )
    assert ledger == [
        ("email", "grant", "import", "2026 秋季市集签到表", "fan.import"),
        ("sms", "grant", "import", "2026 秋季市集签到表", "fan.import"),
    ]


# ------------------------------------------------------------------------
# 2. WeChat
# ------------------------------------------------------------------------


def test_wechat_account_setup(rpc, odoo_server, state):
    account_id = rpc("wechat.account", "create", {
        "name": "手作小记(测试)", "app_id": APP_ID, "app_secret": "e2e-secret",
        "token": TOKEN, "encoding_aes_key": AES_KEY, "message_mode": "plain",
        "api_base_url": "http://127.0.0.1:9/",
        "welcome_reply": WELCOME, "default_reply": DEFAULT_REPLY,
    })  # fmt: skip
    rpc("wechat.reply.rule", "create", {
        "account_id": account_id, "keyword": "课程", "match_type": "exact",
        "reply_text": COURSE_REPLY,
    })  # fmt: skip
    state["account_id"] = account_id
    state["callback"] = f"{odoo_server}/wechat/callback/{account_id}"


def test_wechat_bad_signature_rejected(db, state):
    before = db("SELECT count(*) FROM res_partner")[0][0]
    response = post_plain(state["callback"], wechat_event("subscribe"), token="wrong-token")
    assert response.status_code == 403
    assert db("SELECT count(*) FROM res_partner")[0][0] == before
    assert partner_by_openid(db) is None


def test_wechat_subscribe_plain(db, state):
    response = post_plain(state["callback"], wechat_event("subscribe", EventKey="qrscene_market"))
    assert response.status_code == 200
    assert reply_content(response.text) == WELCOME
    reply = ElementTree.fromstring(response.text)
    assert reply.findtext("ToUserName") == OPENID
    assert reply.findtext("MsgType") == "text"
    partner_id = partner_by_openid(db)
    assert partner_id
    assert db("SELECT is_fan, consent_wechat FROM res_partner WHERE id = %s", [partner_id]) == [
        (True, "granted")
    ]
    assert db(
        "SELECT action, source FROM fan_consent WHERE partner_id = %s AND channel = 'wechat'",
        [partner_id],
    ) == [("grant", "wechat_follow")]
    state["wechat_partner"] = partner_id


def test_wechat_keyword_and_default_safe_mode(rpc, db, state):
    rpc("wechat.account", "write", [state["account_id"]], {"message_mode": "safe"})
    response, crypto = post_safe(state["callback"], wechat_text("课程"))
    assert response.status_code == 200
    assert ElementTree.fromstring(response.text).findtext("Encrypt"), (
        "safe-mode reply not encrypted"
    )
    envelope = ElementTree.fromstring(response.text)
    plain = crypto.decrypt_message(
        response.text,
        envelope.findtext("MsgSignature"),
        envelope.findtext("TimeStamp"),
        envelope.findtext("Nonce"),
    )
    assert reply_content(plain) == COURSE_REPLY

    response, crypto = post_safe(state["callback"], wechat_text("你好,请问下次什么时候开课?"))
    envelope = ElementTree.fromstring(response.text)
    plain = crypto.decrypt_message(
        response.text,
        envelope.findtext("MsgSignature"),
        envelope.findtext("TimeStamp"),
        envelope.findtext("Nonce"),
    )
    assert reply_content(plain) == DEFAULT_REPLY
    messages = db(
        "SELECT count(*) FROM fan_interaction WHERE partner_id = %s "
        "AND interaction_type = 'wechat_message'",
        [state["wechat_partner"]],
    )
    assert messages == [(2,)]


def test_wechat_unsubscribe_withdraws_consent(rpc, db, state):
    rpc("wechat.account", "write", [state["account_id"]], {"message_mode": "plain"})
    response = post_plain(state["callback"], wechat_event("unsubscribe"))
    assert response.status_code == 200
    assert db(
        "SELECT consent_wechat FROM res_partner WHERE id = %s", [state["wechat_partner"]]
    ) == [("withdrawn",)]


# ------------------------------------------------------------------------
# 3. Scores and tiers
# ------------------------------------------------------------------------


def test_scores_and_tiers(rpc, db, state):
    engaged = [
        row[0]
        for row in db(
            "SELECT id FROM res_partner WHERE email_normalized IN "
            "('chenxm@example.com', 'lin.yutong@example.com', 'zhou.rx@example.cn') ORDER BY id"
        )
    ]
    # Two of them buy a course; the third only opened one email.
    for partner_id in engaged[:2]:
        rpc("fan.interaction", "create", {
            "partner_id": partner_id, "interaction_type": "purchase",
            "amount": 199, "name": "购买《木勺手作入门》",
        })  # fmt: skip
    rpc("fan.interaction", "create", {"partner_id": engaged[2], "interaction_type": "email_open"})
    fan_ids = [row[0] for row in db("SELECT id FROM res_partner WHERE is_fan")]
    rpc("res.partner", "action_fan_recompute", fan_ids)
    assert db("SELECT count(*) FROM res_partner WHERE is_fan AND fan_tier_id IS NULL") == [(0,)]

    tiers = rpc(
        "res.partner", "read", engaged, ["fan_tier_id", "fan_score"], context={"lang": "zh_CN"}
    )
    assert [tier["fan_tier_id"][1] for tier in tiers] == ["活跃粉丝", "活跃粉丝", "潜在粉丝"]
    assert tiers[0]["fan_score"] == pytest.approx(39.9, abs=0.1)
    state["active_fans"] = engaged[:2]
    state["quiet_fan"] = engaged[2]

    groups = rpc(
        "res.partner", "web_read_group", [("is_fan", "=", True)], ["fan_tier_id"],
        aggregates=["__count"],
    )  # fmt: skip
    assert [group["fan_tier_id"][0] for group in groups["groups"]][:2] == [
        db("SELECT id FROM fan_tier WHERE code = 'core'")[0][0],
        db("SELECT id FROM fan_tier WHERE code = 'active'")[0][0],
    ]
    action_id = rpc(
        "ir.model.data", "check_object_reference", "freelancer_crm", "res_partner_action_fans"
    )[1]
    views = rpc("ir.actions.act_window", "read", [action_id], ["views"])[0]["views"]
    assert views[0][1] == "kanban", "the Fans menu opens on the kanban board"
    kanban = rpc("res.partner", "get_views", [[views[0][0], "kanban"]])
    assert 'default_group_by="fan_tier_id"' in kanban["views"]["kanban"]["arch"]


# ------------------------------------------------------------------------
# 4. Email campaign, one-click unsubscribe
# ------------------------------------------------------------------------


def _send_campaign(rpc, segment_id, subject):
    mailing_id = rpc("mailing.mailing", "create", {
        "subject": subject, "mailing_type": "mail", "fan_segment_id": segment_id,
        "email_from": "手作小记 <studio@example.com>",
        "body_html": '<p>新课程上线了!</p><p><a href="/unsubscribe_from_list">退订</a></p>',
    })  # fmt: skip
    # As in the web client: Send puts the mailing in the queue, and the
    # scheduled actions build and send the emails.
    rpc("mailing.mailing", "action_put_in_queue", [mailing_id])
    for module, cron in (
        ("mass_mailing", "ir_cron_mass_mailing_queue"),
        ("mail", "ir_cron_mail_scheduler_action"),
    ):
        cron_id = rpc("ir.model.data", "check_object_reference", module, cron)[1]
        rpc("ir.cron", "method_direct_trigger", [cron_id])
    return mailing_id


def test_campaign_to_segment(rpc, db, odoo_server, smtp_server, state):
    _controller, handler = smtp_server
    handler.take()
    rpc("ir.config_parameter", "set_param", "web.base.url", odoo_server)
    active_tier = db("SELECT id FROM fan_tier WHERE code = 'active'")[0][0]
    segment_id = rpc("fan.segment", "create", {
        "name": "活跃及以上(邮件)", "min_tier_id": active_tier, "consent_channel": "email",
    })  # fmt: skip
    state["segment_id"] = segment_id
    expected = {
        row[0]
        for row in db(
            "SELECT p.email_normalized FROM res_partner p JOIN fan_tier t ON t.id = p.fan_tier_id "
            "WHERE p.is_fan AND t.level >= 4 AND p.consent_email = 'granted' "
            "AND p.email_normalized IS NOT NULL"
        )
    }
    assert {"chenxm@example.com", "lin.yutong@example.com"} <= expected
    assert "zhou.rx@example.cn" not in expected

    _send_campaign(rpc, segment_id, "秋季手作课程上线")
    captured = handler.take()
    recipients = {address.lower() for item in captured for address in item["to"]}
    assert recipients == expected
    assert len(captured) == len(expected), "each fan gets exactly one message"
    chen = next(item["message"] for item in captured if item["to"] == ["chenxm@example.com"])
    assert chen["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = chen["List-Unsubscribe"].strip("<>")
    assert unsubscribe_url.startswith(f"{odoo_server}/mailing/")
    state["unsubscribe_url"] = unsubscribe_url
    state["expected"] = expected


def test_one_click_unsubscribe(db, state):
    url = state["unsubscribe_url"]
    # A link scanner's GET must not opt anyone out: it is refused (405) or
    # shows a confirmation page.
    assert requests.get(url, timeout=10).status_code in (200, 405)
    assert db(
        "SELECT consent_email FROM res_partner WHERE email_normalized = 'chenxm@example.com'"
    ) == [("granted",)]
    assert db("SELECT count(*) FROM mail_blacklist WHERE email = 'chenxm@example.com'") == [(0,)]

    response = requests.post(
        url, data={"List-Unsubscribe": "One-Click"}, timeout=10, allow_redirects=False
    )
    assert response.status_code == 200
    assert db(
        "SELECT consent_email FROM res_partner WHERE email_normalized = 'chenxm@example.com'"
    ) == [("withdrawn",)]
    assert db(
        "SELECT c.source FROM fan_consent c JOIN res_partner p ON p.id = c.partner_id "
        "WHERE p.email_normalized = 'chenxm@example.com' AND c.channel = 'email' "
        "AND c.action = 'withdraw'"
    ) == [("unsubscribe_link",)]
    assert db("SELECT active FROM mail_blacklist WHERE email = 'chenxm@example.com'") == [(True,)]


def test_second_campaign_skips_opted_out(rpc, smtp_server, state):
    _controller, handler = smtp_server
    handler.take()
    _send_campaign(rpc, state["segment_id"], "工作坊报名开始")
    recipients = {address.lower() for item in handler.take() for address in item["to"]}
    assert recipients == state["expected"] - {"chenxm@example.com"}
