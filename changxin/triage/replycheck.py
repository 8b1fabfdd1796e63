"""Reply check: before an officer sends a reply, flag one that does not address the demand or
says nothing concrete.

Two independent checks (calibrated on the public message/reply pairs, see docs/TRIAGE.md and
`bench/triage_replycheck.py`):

* **subject** — the demand's key terms (jieba words of the title, counted twice, and the words the
  content repeats; stop words, masks and numbers dropped) are looked up in the reply, with the
  reply's quotations of the demand (“…”) removed so that echoing the title does not count as an
  answer. Too little coverage → ``off_topic``.
* **substance** — a reply should say what was done or will be done (action), what came of it
  (result), by when (time) or on what basis (law, regulation, policy). None of these →
  ``no_action``; a promise ("将…") with no result and no time → ``no_time``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

OFF_TOPIC_BELOW = 0.2  # weighted share of the demand's key terms found in the reply
MIN_TERMS = 2  # fewer key terms than this: too little to judge the subject
MIN_REPLY_CHARS = 15

STOP_WORDS = frozenset(
    [
        "问题",
        "反映",
        "希望",
        "请求",
        "请问",
        "要求",
        "领导",
        "部门",
        "相关",
        "有关",
        "你好",
        "您好",
        "谢谢",
        "感谢",
        "市民",
        "我们",
        "他们",
        "你们",
        "现在",
        "目前",
        "什么",
        "怎么",
        "为什么",
        "这个",
        "那个",
        "这些",
        "那些",
        "已经",
        "没有",
        "一个",
        "可以",
        "不能",
        "进行",
        "情况",
        "能否",
        "是否",
        "政府",
        "尽快",
        "解决",
        "处理",
        "一直",
        "如何",
        "关于",
        "以及",
        "还是",
        "而且",
        "但是",
        "因为",
        "所以",
        "如果",
        "非常",
        "严重",
        "居民",
        "业主",
        "网友",
        "老百姓",
        "百姓",
        "给予",
        "帮助",
        "自己",
        "大家",
        "时候",
        "这样",
        "那么",
        "就是",
        "还有",
        "不是",
        "知道",
        "需要",
        "应该",
        "不会",
        "为了",
        "其中",
        "只是",
        "甚至",
        "或者",
        "然后",
        "导致",
        "存在",
        "造成",
        "影响",
        "希望",
        "期待",
        "恳请",
        "呼吁",
        "建议",
        "咨询",
        "投诉",
        "举报",
        "请求",
        "强烈",
        "广大",
        "群众",
        "人员",
        "工作",
        "单位",
        "有关部门",
        "相关部门",
        "市长",
        "书记",
        "区长",
        "尊敬",
        "谢谢您",
        "一下",
        "一些",
        "很多",
        "多次",
        "多年",
        "今年",
        "去年",
        "每天",
        "有人",
        "没人",
        "不到",
        "得到",
        "为何",
        "到底",
        "究竟",
        "根本",
        "至今",
        "几年",
        "一年",
        "两年",
        "年来",
        "多少",
        "怎样",
        "怎么办",
        "能够",
        "必须",
        "不得",
        "不要",
        "而是",
        "只能",
        "本人",
        "我家",
        "我们家",
        "他人",
        "对于",
        "通过",
        "根据",
        "按照",
        "由于",
        "此事",
        "此类",
        "该项",
        "该处",
        "其他",
    ]
)

QUOTE = re.compile(r"[“\"「『][^”\"」』]{0,200}[”\"」』]")
TRAILING_DATE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日?\s*[。.]?\s*$")
ACTION = re.compile(
    r"(已|将|已经|正在|立即|马上|即将|计划|拟|会同|联合|要求|责令|责成|督促|安排|组织|派出?|协调|约谈|"
    r"联系|现场)[\u4e00-\u9fff]{0,6}?"
    r"(安排|组织|责成|督促|协调|联系|约谈|整改|维修|修复|修缮|清理|清运|清除|拆除|处理|处置|查处|立案|调解|"
    r"核查|核实|调查|检查|巡查|排查|勘察|踏勘|对接|告知|落实|更换|安装|施工|治理|疏通|修补|补种|执法|处罚|罚款|"
    r"取缔|关停|停业|规范|改造|建设|推进|实施|开工|拨付|发放|补发|退还|办理|审批|纳入|增设|设置|加装|拆|修|补)"
)
ACTION_WORDS = re.compile(
    r"(整改|维修|修复|清理|清运|拆除|查处|执法|约谈|督促|责令|调解|疏通|更换|安装|施工|立案|处罚|罚款|取缔|"
    r"巡查|排查|现场核实|现场查看|现场勘察|实地调查|调查核实|经核实|经调查|经查|协调|对接|办理|发放|拨付|答复|"
    r"通知|上门|批评教育|整治|采纳|劝导|劝解|劝离|依法|严处|查封|销毁|拘留|停办|责令)"
)
RESULT = re.compile(
    r"(已|已经)(全部|基本|顺利)?(完成|解决|恢复|修复|整改|清理|清除|拆除|办结|落实|更换|安装|处理|清运|疏通|"
    r"到位|通车|开通|发放|退还|补发|结清|支付|关停|取缔|停止|搬离|撤除|竣工|完工|改正|纠正)|恢复正常|整改完毕|"
    r"处理完毕|修复完毕|施工完毕|已于|现已|目前已"
)
TIME = re.compile(
    r"\d{4}\s*年\s*\d{1,2}\s*月|\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{1,2}\s*月(底|初|中旬|上旬|下旬|份)|"
    r"\d+\s*个?(工作日|天内|日内|周内|个月内|小时内|天|周)|[一二三四五六七八九十两]+\s*个?(工作日|天|周|个月)|"
    r"(今年|本月|下月|年底|月底|年内|下周|本周|明年|近日|近期|春节前|年前)|\d{1,2}\s*[:：]\s*\d{2}|"
    r"\d{4}\s*年\s*(春节|底|内|前|初|上半年|下半年|秋季|春季)"
)
# "已转交××局调查处理": forwarding is not itself a concrete action.
FORWARD = re.compile(
    r"(已|将|会|现)?(转交|转至|转给|转到|转|交办给?|交由|移交|转办)[^，。；！,;!]{0,24}?"
    r"(调查|核查|核实|处理|办理|办复|核处|回复|答复|处置)[^，。；！,;!]{0,8}"
)
BASIS = re.compile(r"依据|根据|按照|依照|《[^》]{2,60}》|规定|条例|办法|政策|标准")


@dataclass
class ReplyCheck:
    ok: bool
    warnings: list[tuple[str, str]] = field(default_factory=list)
    coverage: float | None = None  # share of the demand's key terms the reply mentions
    terms: list[str] = field(default_factory=list)
    found: dict[str, bool] = field(default_factory=dict)  # action / result / time / basis

    @property
    def codes(self) -> list[str]:
        return [code for code, _ in self.warnings]


def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def _useful(word: str) -> bool:
    return (
        len(word) >= 2
        and word not in STOP_WORDS
        and all("\u4e00" <= ch <= "\u9fff" for ch in word)  # masks (A市, A2区), numbers, latin
    )


def key_terms(title: str, content: str, max_content_terms: int = 8) -> dict[str, float]:
    """The demand's key terms with weights: title words 2, words the content repeats 1."""
    jieba = _jieba()
    terms: dict[str, float] = {}
    for word in jieba.lcut(title or ""):
        if _useful(word):
            terms[word] = 2.0
    counts = Counter(w for w in jieba.lcut((content or "")[:2000]) if _useful(w))
    for word, count in counts.most_common(max_content_terms):
        if count >= 2 and word not in terms:
            terms[word] = 1.0
    return terms


def coverage(terms: dict[str, float], reply: str) -> float:
    total = sum(terms.values())
    if not total:
        return 0.0
    found = 0.0
    for term, weight in terms.items():
        if term in reply:
            found += weight
        elif len(term) >= 3 and any(
            term[i : i + 2] in reply and term[i : i + 2] not in STOP_WORDS for i in range(len(term) - 1)
        ):
            found += weight / 2  # 养老保险 answered as 养老金, 物业管理 as 物业公司
    return found / total


def substance(reply: str) -> dict[str, bool]:
    body = FORWARD.sub("", TRAILING_DATE.sub("", QUOTE.sub("", reply.strip())))
    return {
        "action": bool(ACTION.search(body) or ACTION_WORDS.search(body)),
        "result": bool(RESULT.search(body)),
        "time": bool(TIME.search(body)),
        "basis": bool(BASIS.search(body)),
    }


def check_reply(demand_title: str, demand_content: str, reply_text: str) -> ReplyCheck:
    reply = (reply_text or "").strip()
    if not reply:
        return ReplyCheck(False, [("empty", _("The reply is empty."))])
    warnings: list[tuple[str, str]] = []
    if len(reply) < MIN_REPLY_CHARS:
        warnings.append(("too_short", _("The reply is very short; say what was done and what came of it.")))
    terms = key_terms(demand_title, demand_content)
    share = None
    if len(terms) >= MIN_TERMS:
        share = coverage(terms, QUOTE.sub("", reply))
        if share < OFF_TOPIC_BELOW:
            sample = "、".join(list(terms)[:4])
            warnings.append(
                (
                    "off_topic",
                    _("The reply hardly mentions what the demand is about (%(terms)s). Does it answer it?")
                    % {"terms": sample},
                )
            )
    found = substance(reply)
    if not any(found.values()):
        warnings.append(
            (
                "no_action",
                _(
                    "The reply names no concrete action, result, time or basis. Say what was done, what "
                    "came of it, by when, or under which rule."
                ),
            )
        )
    elif (
        found["action"]
        and not (found["result"] or found["time"] or found["basis"])
        and re.search(r"将|计划|拟|即将", reply)
    ):
        warnings.append(("no_time", _("The reply promises action but gives no result and no time frame.")))
    return ReplyCheck(not warnings, warnings, None if share is None else round(share, 3), list(terms), found)
