"""First-level demand categories (the default category tree's roots).

From ``taxonomy.csv`` released with the 2020 TipDM Cup problem C (附件1), which the project may
copy as its default category tree (see ../shared/data/PROVENANCE.md).  The classifier only ever
answers with one of these names; the training labels are checked against them.
"""

LEVEL1: tuple[str, ...] = (
    "城乡建设",
    "党务政务",
    "国土资源",
    "环境保护",
    "纪检监察",
    "交通运输",
    "经济管理",
    "科技与信息产业",
    "民政",
    "农村农业",
    "商贸旅游",
    "卫生计生",
    "政法",
    "教育文体",
    "劳动和社会保障",
)
