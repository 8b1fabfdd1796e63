"""Demo demands: a few hundred realistic Fengtai demands over the last four months, in every state.

Every demand is created with `create_demand` and driven through `transition(..., now=<backdated
time>)`, so the timelines, deadlines, tasks and events are the real ones the engine writes. The
texts are written for this demo (no real citizen messages); requester phones are obviously fake
(1390000xxxx).

Deterministic (random.Random(seed)) apart from being anchored at the current time; idempotent:
nothing is added when demo demands (external_id "demo-…") already exist.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from changxin.core import roles
from changxin.core.models import OrgUnit, Role, UnitKind, User
from changxin.demands.models import Category, Demand, DemandTask, State, TaskRole, TaskState
from changxin.demands.services import create_demand, escalate_overdue, transition
from changxin.demands.workflow import WorkflowError

DEMO_PREFIX = "demo-"
DEFAULT_COUNT = 400
DEFAULT_SEED = 20240901
DAYS_BACK = 120

# The demo logins' units (core/demo.py DEMO_USERS): they must find work in their workbench.
DEMO_OFFICERS = {
    "110106017": "lugouqiao",
    "110106011": "changxindian",
    "110106009": "fengtai",
    "110106101": "wangzuo",
    "110106D01": "chengguan",
    "110106D02": "zhujian",
}
DEMO_STREETS = ("110106017", "110106011", "110106009", "110106101")


@dataclass(frozen=True)
class Template:
    key: str
    demand_type: str
    category: str  # "l1/l2/l3"
    routes: tuple[str, ...]  # "street" = the street/town of the location, else a unit code
    titles: tuple[str, ...]
    contents: tuple[str, ...]  # {place} is filled in
    replies: tuple[str, ...]
    urgency: str = "normal"
    whistle_to: tuple[str, ...] = ()


TEMPLATES = [
    Template(
        "noise",
        "complaint",
        "环境保护/环境污染/噪音污染",
        ("street", "street", "110106D14"),
        ("夜间施工噪音扰民", "工地深夜施工影响休息", "渣土车夜间作业噪音大"),
        (
            "{place}东侧的在建工地连续一周每天夜里十一点以后还在施工，打桩和切割的声音很大，家里老人孩子都睡不好。"
            "希望有关部门核实工地是否办理了夜间施工许可，督促按规定时间作业。",
            "我住在{place}，楼下道路改造工程晚上十点后还有挖掘机作业，噪音一直持续到凌晨一两点，跟施工方说过几次都没改善，请尽快处理。",
            "{place}附近的工地夜里频繁进出渣土车，装卸声和鸣笛声很吵，凌晨三四点还能听到，希望限制夜间作业时间。",
        ),
        (
            "经街道综合执法队现场核查，该工地未办理夜间施工许可，已责令其停止22时至次日6时的高噪声作业，并安排夜间巡查，"
            "近一周未再发现违规施工。已电话告知诉求人。",
            "已约谈施工单位负责人，要求调整作业时间并为切割设备加装隔音棚；执法队两次夜间复查，施工均在22时前结束。",
        ),
        whistle_to=("110106D14", "110106D04"),
    ),
    Template(
        "parking",
        "complaint",
        "城乡建设/城市建设和市政管理/小区管理",
        ("street",),
        ("小区停车难，外来车辆占用车位", "消防通道被私家车占用", "建议小区增设停车位"),
        (
            "{place}小区里车位严重不够，晚上很多外来车辆进来停，物业也不管，消防通道都被堵了，存在安全隐患，希望社区和物业加强管理。",
            "{place}楼前的消防通道天天停满车，前几天救护车都开不进来，耽误了时间。请协调物业设置禁停标识并清理车辆。",
            "{place}是老旧小区，没有地下车库，居民只能沿路边停车。建议把小区北侧闲置空地改成临时停车场，缓解停车难。",
        ),
        (
            "社区已召集物业和居民代表召开协调会，在小区门口加装车辆识别道闸，外来车辆实行临时收费停放；消防通道已施划禁停标线，物业每日巡查。",
            "街道已对小区北侧空地进行勘察，拟纳入年度老旧小区综合整治项目，增设约40个停车位，已向诉求人说明进度。",
        ),
        whistle_to=("110106D05",),
    ),
    Template(
        "heating",
        "help",
        "城乡建设/城市建设和市政管理/冬季采暖",
        ("110106C04", "110106D02", "street"),
        ("家中暖气不热", "供暖温度不达标", "暖气片不热请求检修"),
        (
            "我家在{place}，供暖以来暖气一直不怎么热，室内只有十四五度，家里有刚出生的孩子，请供热单位上门检测。",
            "{place}整栋楼暖气都不热，楼上楼下邻居都反映过，给物业打电话说是管道里有空气，一直没人来处理。",
            "{place}家里暖气片前半截热后半截凉，自己放过水也不行，希望安排人员入户检修。",
        ),
        (
            "热力公司维修人员已入户检测，对楼内立管排气并清洗过滤器，复测室温达到20℃，诉求人确认暖气已热。",
            "经查为小区二次管网阀门故障，已于当日更换阀门，整栋楼供暖恢复正常。",
        ),
        urgency="utility",
    ),
    Template(
        "garbage",
        "complaint",
        "城乡建设/城市建设和市政管理/环境卫生",
        ("street", "street", "110106D01"),
        ("垃圾桶站满溢清运不及时", "小区垃圾分类不规范", "厨余垃圾桶长期无人清理"),
        (
            "{place}楼下的垃圾桶站每天下午就满了，垃圾堆在桶外面，气味很大还招苍蝇，希望增加清运次数。",
            "{place}的垃圾分类桶站没人值守，很多居民不分类随手扔，厨余和其他垃圾混在一起，建议安排桶前值守和宣传。",
            "{place}小区门口的厨余垃圾桶好几天没人清运，汤汤水水流到路面上，味道特别难闻。",
        ),
        (
            "街道已协调环卫所把该桶站的清运由每日一次调整为每日两次，并安排志愿者早晚高峰桶前值守，指导居民分类投放。",
            "社区联合物业对桶站进行了清洗消毒，更换破损垃圾桶，张贴分类指引，桶站已恢复整洁。",
        ),
        whistle_to=("110106D01",),
    ),
    Template(
        "vendors",
        "complaint",
        "城乡建设/城市建设和市政管理/城管执法",
        ("street", "street", "110106D14"),
        ("路口商贩占道经营", "早市摊位占用人行道", "夜间烧烤店外经营扰民"),
        (
            "{place}附近路口每天早晚都有十几个流动商贩摆摊卖菜卖水果，占了大半条人行道，行人只能走机动车道，很不安全。",
            "{place}门口几家饭馆晚上把桌椅摆到人行道上做烧烤，油烟很大，还经常吵到半夜。",
            "{place}周边的早市摊位越摆越多，把小区出入口都堵了，早上开车出不去。",
        ),
        (
            "街道综合执法队已对该路段开展集中整治，劝离流动商贩，对拒不整改的店外经营依法处罚，并纳入日常巡查点位。",
            "已引导周边商贩进入附近便民市场规范经营，路口安排执法队员早晚值守，人行道已恢复通行。",
        ),
        whistle_to=("110106D14", "110106D03"),
    ),
    Template(
        "elevator",
        "help",
        "商贸旅游/质监检验检疫/特种设备管理",
        ("110106D03", "street"),
        ("老旧小区电梯频繁故障", "电梯停运多日无人维修", "电梯运行异响存在隐患"),
        (
            "{place}这栋楼的电梯一个月坏了好几次，上周还困过人，楼里很多老人住高层，上下楼很困难，希望督促维保单位彻底检修。",
            "{place}的电梯从上周停运到现在，物业说配件还没到，楼上有坐轮椅的老人已经好几天没下过楼了。",
            "{place}的电梯运行时一直有咔咔的异响，有时候停层不准，大家都不敢坐，请有关部门检查一下。",
        ),
        (
            "区市场监管局已对该电梯进行专项检查，责令维保单位更换老化部件并加强日常维保，电梯已恢复运行。",
            "已协调物业和维保单位加急调货，电梯三日后修复；期间社区安排志愿者为行动不便的老人送菜上门。",
        ),
        whistle_to=("110106D03",),
    ),
    Template(
        "property_fee",
        "complaint",
        "城乡建设/住房保障与房地产/物业服务",
        ("110106D02", "street"),
        ("物业费上涨未公示", "物业服务差却催缴物业费", "对物业收费标准有异议"),
        (
            "{place}物业今年突然把物业费从每平米1.8元涨到2.5元，事先没有征求业主意见，也没有公示收费依据，请相关部门核查。",
            "{place}的物业平时保洁、绿化都不到位，楼道灯坏了几个月不修，现在却上门催缴物业费，还说不交就停水。",
            "{place}的物业要求一次性交三年物业费才给办门禁卡，我们认为不合理。",
        ),
        (
            "区住建委已约谈物业公司：物业费调整须经业主大会决议并公示，新标准已暂停执行；同时督促其整改楼道照明和保洁问题。",
            "街道物业办组织业主代表与物业公司协商，物业公司已取消预缴三年物业费的要求，门禁卡正常办理。",
        ),
    ),
    Template(
        "water",
        "help",
        "城乡建设/城市建设和市政管理/自来水供应",
        ("110106C01", "110106D11"),
        ("突然停水没有提前通知", "小区水压低高层没水", "自来水发黄有异味"),
        (
            "{place}从今天早上七点开始停水，没看到任何通知，家里老人做饭洗漱都成问题，请问什么时候能恢复？",
            "{place}最近一周每天晚上用水高峰水压特别低，六楼以上基本没水，希望供水单位检查加压设备。",
            "{place}家里自来水放出来是黄色的，还有铁锈味，担心水质有问题，请求检测。",
        ),
        (
            "经自来水公司查明为小区外市政管线爆裂抢修，已于当日16时恢复供水，并要求今后计划停水须提前24小时张贴通知。",
            "供水所已检修小区二次供水加压泵，高层水压恢复正常；管道冲洗后取样检测，水质合格。",
        ),
        urgency="utility",
    ),
    Template(
        "streetlight",
        "complaint",
        "城乡建设/城市建设和市政管理/城市公共设施",
        ("110106D01", "street"),
        ("路灯不亮夜间出行不便", "辅路照明损坏", "公园步道路灯长期不亮"),
        (
            "{place}外面的道路有五六盏路灯坏了一个多月，晚上黑漆漆的，下班回家走这段路很害怕，希望尽快维修。",
            "{place}附近的过街天桥和辅路照明都不亮，最近已经有人摔倒了。",
            "{place}旁边小公园的步道路灯长期不亮，晚上锻炼的老人很多，存在安全隐患。",
        ),
        (
            "区城管委已安排路灯养护单位检修，更换损坏灯具6套，该路段照明已恢复。",
            "经查为供电线路老化，已更换电缆，路灯恢复正常，并纳入夜间巡查。",
        ),
    ),
    Template(
        "bikes",
        "complaint",
        "城乡建设/城市建设和市政管理/城市公共设施",
        ("110106D05", "street"),
        ("共享单车堆积占用盲道", "地铁站口共享单车乱停放", "废旧共享单车长期堆放"),
        (
            "{place}附近地铁站出口的共享单车堆成了小山，把盲道和人行道都占满了，推婴儿车根本过不去。",
            "{place}门口每天早高峰后停满了共享单车，一直没人清理，希望企业及时调度。",
            "{place}旁边的绿地里堆了几十辆坏掉的共享单车，很长时间没人管。",
        ),
        (
            "区交通委已通知相关共享单车企业增派运维人员，早晚高峰加强该站点调度，并施划了停放区域。",
            "街道已联系企业清运废旧车辆87辆，绿地已恢复原貌。",
        ),
    ),
    Template(
        "wages",
        "help",
        "劳动和社会保障/工资福利/工资发放",
        ("110106D08",),
        ("公司拖欠工资", "工地拖欠农民工工资", "离职后工资未结清"),
        (
            "我在{place}附近一家装修公司干了三个月，老板以资金困难为由一直拖欠工资，一共两万多元，请求帮助讨薪。",
            "我们十几个工人在{place}的工地干活，项目已经完工两个月，包工头还欠着大家的工资，家里急等用钱。",
            "我从{place}一家餐饮公司离职已经一个月，最后一个月的工资和加班费一直没结算。",
        ),
        (
            "区人力社保局劳动保障监察大队已立案调查并约谈企业负责人，企业已在五个工作日内足额支付拖欠工资。",
            "经调解，总包单位已先行垫付农民工工资，款项已发放到位。",
        ),
    ),
    Template(
        "school",
        "consult",
        "教育文体/考试招生/招生录取",
        ("110106D06",),
        ("咨询幼升小入学政策", "非京籍子女入学材料咨询", "咨询小学划片范围"),
        (
            "孩子今年九月上小学，我们住在{place}，想咨询对口的是哪所小学，需要准备哪些材料，什么时候网上登记？",
            "我们是非京籍家庭，在丰台工作居住，孩子明年上小学，请问需要办理哪些证明？",
            "家住{place}，想了解今年的小学划片范围有没有调整。",
        ),
        (
            "已告知诉求人：适龄儿童入学信息采集通过北京市义务教育入学服务平台进行，非京籍需提供在京务工就业、实际住所居住、"
            "全家户口簿及北京市居住证等材料，对口学校可咨询区教委招生考试中心。",
        ),
    ),
    Template(
        "insurance",
        "consult",
        "劳动和社会保障/城镇居民社会保险/城镇居民医疗保险",
        ("110106D17",),
        ("咨询门诊医保报销比例", "异地就医备案咨询", "城乡居民医保缴费咨询"),
        (
            "想咨询城乡居民医保门诊报销的起付线和比例是多少，在社区卫生服务中心看病是不是报销得更多？",
            "我母亲长期住在外地，想咨询北京医保异地就医备案怎么办理。",
            "家住{place}，孩子的城乡居民医保明年怎么缴费，在哪里办理？",
        ),
        (
            "已向诉求人解答门诊起付线和报销比例（社区卫生服务机构比例更高），并告知可通过北京医保公共服务平台或国家医保服务平台APP"
            "办理异地就医备案和缴费。",
        ),
    ),
    Template(
        "praise",
        "praise",
        "民政/基层选举和社区建设/社区建设",
        ("street",),
        ("表扬社区工作人员", "感谢社区书记热心帮助", "表扬街道工作人员办事高效"),
        (
            "我要表扬{place}所在社区的工作人员小刘。我家老人独居，上个月突发疾病，是她及时发现帮忙叫了救护车，还一直陪到家属赶来。",
            "感谢{place}社区的书记，我们楼的漏水问题反映后，她多次协调物业和楼上住户，最后彻底解决了。",
            "街道工作人员帮我们办理老年卡，主动上门服务，特别耐心，住在{place}的老人们都很感谢，特此表扬。",
        ),
        ("已将市民的表扬转达社区和街道，对相关工作人员予以通报表扬。",),
    ),
    Template(
        "illegal_building",
        "report",
        "城乡建设/城乡规划/违章建筑",
        ("street", "110106D14"),
        ("楼顶私搭乱建", "一层住户私自扩建院子", "小区绿地被占用搭棚"),
        (
            "{place}顶楼住户在楼顶私自搭建阳光房，施工时把防水层破坏了，楼下已经开始漏水。",
            "{place}一层有住户把公共绿地圈起来扩建成自家小院，还砌了砖墙。",
            "{place}小区的绿地上有人搭了铁皮棚子堆放杂物，存在消防隐患。",
        ),
        ("街道综合执法队已现场核查，认定为违法建设，下达限期拆除通知书，当事人已自行拆除。",),
        whistle_to=("110106D14", "110106D13"),
    ),
    Template(
        "power",
        "help",
        "城乡建设/城市建设和市政管理/电力供应",
        ("110106C02",),
        ("小区突然停电", "频繁跳闸停电"),
        (
            "{place}整栋楼从晚上八点开始停电，到现在还没来电，冰箱里的东西都要坏了。",
            "{place}这几天频繁跳闸停电，一天好几次，家里的电器都不敢用。",
        ),
        ("供电公司抢修人员查明为箱变低压开关故障，更换后当晚恢复供电。",),
        urgency="utility",
    ),
    Template(
        "elderly_meals",
        "suggestion",
        "民政/福利慈善/福利事业",
        ("street",),
        ("建议社区开设老年餐桌", "建议增加养老助餐点"),
        (
            "{place}的老人很多，子女白天上班，建议社区开设老年助餐点，提供价格实惠的午餐。",
            "{place}附近只有一个养老驿站，离得远的老人吃饭不方便，建议增加助餐点或者提供送餐服务。",
        ),
        ("街道已协调辖区养老驿站开通助餐服务，老人可通过社区登记预约送餐。",),
    ),
]
TEMPLATE_BY_KEY = {t.key: t for t in TEMPLATES}
TEMPLATE_WEIGHTS = {
    "noise": 9, "parking": 9, "heating": 8, "garbage": 9, "vendors": 7, "elevator": 5, "property_fee": 7,
    "water": 4, "streetlight": 5, "bikes": 5, "wages": 4, "school": 4, "insurance": 4, "praise": 3,
    "illegal_building": 4, "power": 2, "elderly_meals": 3,
}  # fmt: skip

# final states of the ordinary plans and their weights (special ones are added explicitly)
PLAN_WEIGHTS = {
    "archived": 38, "visited": 12, "replied": 8, "in_progress": 6, "contacted": 5, "acknowledged": 4,
    "dispatched": 5, "received": 3, "disputed": 2, "merged": 3, "answered": 4, "overdue": 7,
}  # fmt: skip
STAGES = [
    "received",
    "dispatched",
    "acknowledged",
    "contacted",
    "in_progress",
    "replied",
    "visited",
    "archived",
]

# (lead unit, template, final stage) that the demo logins must find in their workbench
FEATURED = [
    ("110106017", "noise", "dispatched"),
    ("110106017", "parking", "acknowledged"),
    ("110106017", "garbage", "contacted"),
    ("110106017", "vendors", "in_progress"),
    ("110106011", "parking", "dispatched"),
    ("110106011", "garbage", "acknowledged"),
    ("110106011", "illegal_building", "in_progress"),
    ("110106009", "vendors", "dispatched"),
    ("110106009", "noise", "contacted"),
    ("110106009", "elderly_meals", "in_progress"),
    ("110106101", "garbage", "dispatched"),
    ("110106101", "parking", "contacted"),
    ("110106101", "illegal_building", "acknowledged"),
    ("110106D01", "streetlight", "dispatched"),
    ("110106D01", "garbage", "contacted"),
    ("110106D01", "streetlight", "in_progress"),
    ("110106D02", "property_fee", "dispatched"),
    ("110106D02", "heating", "acknowledged"),
    ("110106D02", "property_fee", "in_progress"),
]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
GIVEN = [
    "秀英",
    "桂英",
    "秀兰",
    "玉兰",
    "建华",
    "建国",
    "志强",
    "永红",
    "海燕",
    "丽娟",
    "淑珍",
    "凤兰",
    "卫东",
    "立新",
    "明",
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "军",
    "杰",
    "涛",
    "超",
    "霞",
    "平",
    "刚",
    "鑫",
    "宇",
    "浩",
    "晨",
    "欣",
    "悦",
    "雪",
    "婷",
    "健",
    "玲",
]


@dataclass
class Plan:
    index: int
    template: Template
    stage: str  # final stage, or "disputed" / "merged" / "answered" / "overdue"
    received_at: dt.datetime
    street: OrgUnit
    community: OrgUnit
    lead_code: str | None = None
    flags: set[str] = field(default_factory=set)


class DemoBuilder:
    def __init__(
        self, *, seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT, now: dt.datetime | None = None
    ):
        self.rnd = random.Random(seed)
        self.count = count
        self.now = now or timezone.now()
        self.failures: list[str] = []
        self.units = {u.code: u for u in OrgUnit.objects.all()}
        self.dispatcher = User.objects.get(username="dispatcher")
        self.officers: dict[str, User] = {}
        self.categories = {c.full_name.replace(" / ", "/"): c for c in Category.objects.filter(level=3)}
        self.streets = [u for u in self.units.values() if u.kind in roles.STREET_LEVEL_KINDS]
        self.communities: dict[int, list[OrgUnit]] = {}
        for unit in self.units.values():
            if unit.kind in roles.COMMUNITY_KINDS:
                self.communities.setdefault(unit.parent_id, []).append(unit)
        for communities in self.communities.values():
            communities.sort(key=lambda u: u.code)
        self.streets.sort(key=lambda u: u.code)
        # how well each street/unit does: drives late contacts and return-visit answers (rankings differ)
        self.quality = {code: self.rnd.uniform(0.55, 0.95) for code in sorted(self.units)}
        self.by_template: dict[str, list[Demand]] = {}

    # -- people --

    def officer(self, unit: OrgUnit) -> User:
        if unit.code in self.officers:
            return self.officers[unit.code]
        username = DEMO_OFFICERS.get(unit.code) or f"officer_{unit.code}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                full_name=f"{unit.short_name or unit.name}承办人",
                role=Role.OFFICER,
                unit=unit,
                phone=f"1390001{len(self.officers):04d}",
            )
            user.set_unusable_password()
            user.save()
        self.officers[unit.code] = user
        return user

    def requester(self) -> tuple[str, str]:
        name = self.rnd.choice(SURNAMES) + (
            self.rnd.choice(["先生", "女士"]) if self.rnd.random() < 0.5 else self.rnd.choice(GIVEN)
        )
        return name, f"1390000{self.rnd.randint(0, 9999):04d}"

    # -- planning --

    def _location(self, street: OrgUnit | None = None) -> tuple[OrgUnit, OrgUnit]:
        if street is None:
            weights = [6 if s.code in DEMO_STREETS else 1 for s in self.streets]
            street = self.rnd.choices(self.streets, weights)[0]
        return street, self.rnd.choice(self.communities[street.pk])

    def _received_for(self, stage: str) -> dt.datetime:
        hours = {
            "received": (0.2, 4),
            "dispatched": (1, 20),
            "disputed": (0.5, 6),
            "acknowledged": (3, 30),
            "contacted": (24, 96),
            "in_progress": (48, 140),
            "replied": (72, 220),
            "visited": (120, 900),
            "archived": (200, DAYS_BACK * 24),
            "merged": (24, DAYS_BACK * 24),
            "answered": (2, DAYS_BACK * 24),
            "overdue": (12 * 24, 35 * 24),
        }[stage]
        moment = self.now - dt.timedelta(hours=self.rnd.uniform(*hours))
        local = timezone.localtime(moment)
        if local.hour < 7:  # few people call at night
            moment += dt.timedelta(hours=7 - local.hour + self.rnd.uniform(0, 2))
            moment = min(moment, self.now - dt.timedelta(minutes=5))
        return moment

    def plans(self) -> list[Plan]:
        plans: list[Plan] = []
        for lead_code, key, stage in FEATURED:
            unit = self.units[lead_code]
            street, community = self._location(unit if unit.is_street_level else None)
            plans.append(
                Plan(
                    len(plans),
                    TEMPLATE_BY_KEY[key],
                    stage,
                    self._received_for(stage),
                    street,
                    community,
                    lead_code,
                )
            )
        keys, weights = zip(*TEMPLATE_WEIGHTS.items(), strict=True)
        stages, stage_weights = zip(*PLAN_WEIGHTS.items(), strict=True)
        while len(plans) < self.count:
            template = TEMPLATE_BY_KEY[self.rnd.choices(keys, weights)[0]]
            stage = self.rnd.choices(stages, stage_weights)[0]
            if stage == "answered" and template.demand_type != "consult":
                template = TEMPLATE_BY_KEY[self.rnd.choice(["school", "insurance"])]
            street, community = self._location()
            plan = Plan(len(plans), template, stage, self._received_for(stage), street, community)
            r = self.rnd.random
            if stage in ("archived", "visited", "replied", "in_progress", "contacted"):
                if r() < 1 - self.quality[street.code] * 0.9:
                    plan.flags.add("late_contact")
                if r() < 0.05:
                    plan.flags.add("dispute_upheld")
                elif r() < 0.04:
                    plan.flags.add("dispute_rejected")
                if r() < 0.04:
                    plan.flags.add("co_unit")
            if stage in ("archived", "visited", "replied", "in_progress"):
                if r() < 0.08:
                    plan.flags.add("extension")
                if template.whistle_to and r() < 0.12:
                    plan.flags.add("whistle")
            if stage in ("archived", "visited", "replied") and r() < 0.05:
                plan.flags.add("late_reply")
            if stage in ("archived", "visited"):
                if r() < 0.03:
                    plan.flags.add("unreachable")
                elif r() < 0.04:
                    plan.flags.add("reopen")
                elif r() < 0.03:
                    plan.flags.add("exclude")
            plans.append(plan)
        # make sure every side path shows at least once
        ordinary = [p for p in plans if not p.lead_code and p.stage in ("archived", "visited")]
        for flag, plan in zip(
            [
                "dispute_upheld",
                "dispute_rejected",
                "extension",
                "whistle",
                "reopen",
                "unreachable",
                "exclude",
            ],
            ordinary[:: max(1, len(ordinary) // 8)],
            strict=False,
        ):
            plan.flags.add(flag)
            if flag == "whistle" and not plan.template.whistle_to:
                plan.template = TEMPLATE_BY_KEY["noise"]
        pending = [p for p in plans if not p.lead_code and p.stage == "in_progress"][:3]
        for plan, outcome in zip(
            pending, ["extension_pending", "whistle_open", "whistle_open"], strict=False
        ):
            plan.flags.add(outcome)
            if outcome == "whistle_open":
                plan.template = TEMPLATE_BY_KEY[self.rnd.choice(["garbage", "noise", "elevator"])]
        plans.sort(key=lambda p: p.received_at)
        return plans

    # -- playing a plan through the real services --

    def _lead_for(self, plan: Plan, *, exclude: str | None = None) -> OrgUnit:
        if plan.lead_code and exclude is None:
            return self.units[plan.lead_code]
        routes = [c for c in plan.template.routes if c != exclude]
        if "whistle" in plan.flags or "whistle_open" in plan.flags:
            routes = ["street"]
        code = self.rnd.choice(routes or ["street"])
        unit = plan.street if code == "street" else self.units[code]
        if exclude and unit.code == exclude:
            unit = self.units["110106D14"] if exclude != "110106D14" else plan.street
        return unit

    def _step(self, t: dt.datetime, lo_minutes: float, hi_minutes: float, office: bool = True) -> dt.datetime:
        """A later moment, during office-ish hours when `office`, never in the future."""
        nxt = t + dt.timedelta(minutes=self.rnd.uniform(lo_minutes, hi_minutes))
        if office:
            local = timezone.localtime(nxt)
            if local.hour >= 20 or local.hour < 8:
                day = local.date() + dt.timedelta(days=1 if local.hour >= 20 else 0)
                nxt = timezone.make_aware(
                    dt.datetime.combine(day, dt.time(8, 30)) + dt.timedelta(minutes=self.rnd.uniform(0, 90))
                )
        if nxt >= self.now:
            nxt = t + (self.now - t) * self.rnd.uniform(0.3, 0.7)
        return nxt

    def play(self, plan: Plan) -> Demand | None:
        rnd, template, dispatcher = self.rnd, plan.template, self.dispatcher
        name, phone = self.requester()
        community, street = plan.community, plan.street
        master = None
        if plan.stage == "merged":
            earlier = self.by_template.get(template.key) or []
            master = earlier[-1] if earlier else None
            if master is not None:
                community, street = master.community, master.street
        base = community.name.removesuffix("社区")
        if community.kind == UnitKind.VILLAGE:
            place = base
            address = f"北京市丰台区{street.name}{base}{rnd.choice(['东街', '西街', '南街', '北街'])}{rnd.randint(1, 80)}号"
        else:
            building = rnd.randint(1, 24)
            place = f"{base}{building}号楼"
            address = f"北京市丰台区{street.name}{base}{building}号楼{rnd.randint(1, 6)}单元"
        channel = rnd.choices(["hotline", "web", "mini_program"], [75, 15, 10])[0]
        data = {
            "channel": channel,
            "demand_type": template.demand_type,
            "urgency": template.urgency,
            "title": rnd.choice(template.titles),
            "content": rnd.choice(template.contents).format(place=place),
            "category": self.categories[template.category],
            "requester_kind": "person",
            "requester_name": name,
            "requester_phone": phone,
            "address": address,
            "street": street,
            "community": community,
            "external_id": f"{DEMO_PREFIX}{plan.index:04d}",
        }
        t = plan.received_at
        demand, _ = create_demand(data, actor=dispatcher if channel == "hotline" else None, received_at=t)
        self.by_template.setdefault(template.key, []).append(demand)
        reply = rnd.choice(template.replies)

        def go(name, actor, **kwargs):
            nonlocal demand
            demand = transition(demand.pk, name, actor, now=t, **kwargs)  # the updated row, no refetch

        if plan.stage == "merged" and master is None:
            plan.stage = "archived"  # nothing earlier to merge into: an ordinary demand
        stage = plan.stage
        if stage == "received":
            return demand
        if stage == "merged" and master is not None:
            t = self._step(t, 5, 60, office=False)
            go("merge", dispatcher, note=f"与{master.number}反映同一问题，合并办理。", master=master)
            return demand
        if stage == "answered":
            t = self._step(t, 3, 15, office=False)
            go("answer", dispatcher, note=reply)
            if plan.received_at < self.now - dt.timedelta(days=2):
                t = self._step(t, 60 * 4, 60 * 30)
                go(
                    "return_visit",
                    dispatcher,
                    resolution="resolved",
                    satisfaction=rnd.choice(["satisfied", "basic"]),
                )
                if rnd.random() < 0.8:
                    t = self._step(t, 60 * 24, 60 * 72)
                    go("archive", None)
            return demand

        # dispatch
        lead = self._lead_for(plan)
        co_units = []
        if "co_unit" in plan.flags:
            co = self.units["110106D01"] if lead.code != "110106D01" else self.units["110106D14"]
            co_units = [co]
        t = self._step(t, 3, 40, office=False)
        go("dispatch", dispatcher, lead_unit=lead, co_units=co_units)
        if stage == "dispatched":
            return demand
        officer = self.officer(lead)

        if stage == "disputed" or {"dispute_upheld", "dispute_rejected"} & plan.flags:
            t = self._step(t, 2, 10, office=False)
            reason = rnd.choice(["not_our_duty", "wrong_place"])
            note = (
                "经核实，该地址不在我单位辖区，请改派。"
                if reason == "wrong_place"
                else "该事项不属于我单位职责范围，建议派至行业主管部门。"
            )
            go("dispute", officer, reason=reason, note=note)
            if stage == "disputed":
                return demand
            t = self._step(t, 20, 120, office=False)
            if "dispute_upheld" in plan.flags:
                lead = self._lead_for(plan, exclude=lead.code)
                go("redispatch", dispatcher, lead_unit=lead, note="退单理由成立，改派至责任单位。")
                officer = self.officer(lead)
            else:
                go(
                    "reject_dispute",
                    dispatcher,
                    note="经核实属于你单位辖区和职责，退单不予支持，请继续办理。",
                )
        if demand.state == State.DISPATCHED:
            t = self._step(t, 10, 180)
            go("acknowledge", officer)
        if stage == "acknowledged":
            return demand
        if stage == "overdue" and rnd.random() < 0.3:
            return demand  # acknowledged, never contacted: contact and finish deadlines missed

        if "late_contact" in plan.flags and demand.contact_due < self.now:
            t = max(t, demand.contact_due) + dt.timedelta(minutes=rnd.uniform(30, 60 * 20))
            t = min(t, self.now - dt.timedelta(minutes=2))
        else:
            before, t = t, self._step(t, 20, 240)
            if demand.contact_due and t > demand.contact_due:  # on time: just before the deadline
                t = max(
                    demand.contact_due - dt.timedelta(minutes=rnd.uniform(5, 30)),
                    before + dt.timedelta(minutes=1),
                )
        go(
            "contact",
            officer,
            note=rnd.choice(
                [
                    "已电话联系诉求人，了解具体情况。",
                    "已与诉求人电话沟通，约定上门查看时间。",
                    "已联系诉求人，告知办理流程和预计时间。",
                ]
            ),
        )
        if stage == "contacted" or (stage == "overdue" and rnd.random() < 0.4):
            return demand
        t = self._step(t, 30, 600)
        go("start", officer)
        if "whistle" in plan.flags or "whistle_open" in plan.flags:
            called = [self.units[c] for c in template.whistle_to[:2]] if lead.is_street_level else []
            if called:
                t = self._step(t, 60, 60 * 24)
                go(
                    "whistle",
                    officer,
                    units=called,
                    due_days=3,
                    note="该问题涉及行业监管职责，请相关部门到场联合处置。",
                )
                for unit in called:
                    task = DemandTask.objects.filter(demand=demand, unit=unit, role=TaskRole.WHISTLE).first()
                    if "whistle_open" in plan.flags:
                        continue
                    t = self._step(t, 30, 60 * 8)
                    go("task_acknowledge", self.officer(unit), task=task.pk)
                    t = self._step(t, 60, 60 * 24)
                    go(
                        "task_complete",
                        self.officer(unit),
                        task=task.pk,
                        note="已派执法人员到场，配合街道完成处置。",
                    )
        if co_units and demand.state != State.MERGED:
            task = DemandTask.objects.filter(
                demand=demand, role=TaskRole.CO, state__in=[TaskState.PENDING, TaskState.ACKNOWLEDGED]
            ).first()
            if task is not None:
                t = self._step(t, 60, 60 * 24)
                go("task_complete", self.officer(task.unit), task=task.pk, note="已按分工完成协办事项。")
        if {"extension", "extension_pending"} & plan.flags:
            t = self._step(t, 60, 60 * 24)
            go(
                "request_extension",
                officer,
                days=rnd.randint(3, 8),
                note="涉及多个部门协调和施工维修，需要延长办理时限。",
            )
            if "extension_pending" not in plan.flags:
                t = self._step(t, 30, 60 * 6)
                if rnd.random() < 0.75:
                    go("approve_extension", dispatcher)
                else:
                    go("deny_extension", dispatcher, note="该事项可在原时限内办结，延期申请不予批准。")
        if stage in ("in_progress", "overdue"):
            return demand

        if "late_reply" in plan.flags and demand.finish_due < self.now:
            t = max(t, demand.finish_due) + dt.timedelta(hours=rnd.uniform(4, 72))
            t = min(t, self.now - dt.timedelta(minutes=2))
        else:
            before, t = t, self._step(t, 60 * 3, 60 * 24 * 5)
            if demand.finish_due and t > demand.finish_due:  # on time: before the deadline
                t = max(
                    demand.finish_due - dt.timedelta(hours=rnd.uniform(1, 20)),
                    before + dt.timedelta(minutes=5),
                )
        go("reply", officer, note=reply)
        if stage == "replied":
            return demand
        self._visit(demand, plan, t, officer, reply)
        return demand

    def _visit(self, demand: Demand, plan: Plan, t: dt.datetime, officer: User, reply: str) -> None:
        rnd, dispatcher = self.rnd, self.dispatcher

        def go(name, actor, **kwargs):
            nonlocal demand
            demand = transition(demand.pk, name, actor, now=t, **kwargs)  # the updated row, no refetch

        if "unreachable" in plan.flags:
            for _ in range(3):
                t = self._step(t, 60 * 2, 60 * 20)
                go("visit_attempt", dispatcher)
        else:
            q = self.quality[demand.lead_unit.code]
            if "reopen" in plan.flags or "exclude" in plan.flags:
                resolution, satisfaction = "unresolved", "dissatisfied"
            else:
                resolution = rnd.choices(
                    ["resolved", "partly", "unresolved"], [q, (1 - q) * 0.55, (1 - q) * 0.45]
                )[0]
                satisfaction = {
                    "resolved": rnd.choices(["satisfied", "basic", "dissatisfied"], [80, 17, 3])[0],
                    "partly": rnd.choices(["satisfied", "basic", "dissatisfied"], [20, 55, 25])[0],
                    "unresolved": rnd.choices(["satisfied", "basic", "dissatisfied"], [3, 22, 75])[0],
                }[resolution]
            t = self._step(t, 60 * 2, 60 * 40)
            go("return_visit", dispatcher, resolution=resolution, satisfaction=satisfaction)
            if "exclude" in plan.flags:
                t = self._step(t, 60, 60 * 24)
                go("exclude_rating", dispatcher, note="诉求人要求超出政策规定，经审核不满意评价不计入考核。")
            if "reopen" in plan.flags:
                t = self._step(t, 60, 60 * 24)
                go("reopen", dispatcher, note="诉求人反映问题仍未解决，重新派单办理。")
                t = self._step(t, 10, 120)
                go("acknowledge", officer)
                t = self._step(t, 20, 200)
                go("contact", officer, note="重办：已再次联系诉求人，现场复核。")
                t = self._step(t, 60 * 4, 60 * 24 * 3)
                go("reply", officer, note="重办：" + reply)
                t = self._step(t, 60 * 2, 60 * 30)
                go(
                    "return_visit",
                    dispatcher,
                    resolution="resolved",
                    satisfaction=rnd.choice(["satisfied", "basic"]),
                )
        if plan.stage == "archived":
            t = self._step(t, 60 * 12, 60 * 24 * 4, office=False)
            go("archive", None if rnd.random() < 0.7 else dispatcher)


def demo_demands_exist() -> bool:
    return Demand.objects.filter(external_id__startswith=DEMO_PREFIX).exists()


def load_demo(stdout=None, *, seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT, now=None) -> int:
    """Create the demo demands; returns how many were created (0 when they already exist)."""

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message)

    if demo_demands_exist():
        say("demo demands: already loaded, skipped")
        return 0
    started, cpu = time.perf_counter(), time.process_time()
    with transaction.atomic():
        builder = DemoBuilder(seed=seed, count=count, now=now)
        created = 0
        for plan in builder.plans():
            try:
                with transaction.atomic():
                    builder.play(plan)
                created += 1
            except WorkflowError as exc:  # a step the engine refused: keep the rest of the demo
                builder.failures.append(f"{DEMO_PREFIX}{plan.index:04d} ({plan.stage}): {exc.code} {exc}")
        supervised = escalate_overdue(builder.now)
    say(
        f"demo demands: {created} created, {supervised} supervised as overdue, "
        f"{len(builder.failures)} skipped, in {time.perf_counter() - started:.1f}s "
        f"({time.process_time() - cpu:.1f}s CPU)"
    )
    for failure in builder.failures:
        say(f"  skipped {failure}")
    return created
