"""Vocabulary of the sample marketplace: category tree, product nouns, attributes, brand syllables.

Kept apart from `sample.py` (the generator logic) because it is data, not behaviour.
Each leaf: (zh path, en leaf, [(noun zh, noun en)], {attribute: [(value zh, value en)]}, price range).
"""

from __future__ import annotations

Leaf = tuple[tuple[str, ...], str, list[tuple[str, str]], dict[str, list[tuple[str, str]]], tuple[float, float]]

_FILL = {"填充": [("记忆棉", "memory foam"), ("乳胶", "latex"), ("羽绒", "down"), ("荞麦", "buckwheat"),
                  ("纤维棉", "fiber")]}
_FABRIC = {"面料": [("纯棉", "cotton"), ("天丝", "tencel"), ("真丝", "silk"), ("法兰绒", "flannel"),
                    ("亚麻", "linen")]}
_COLOR = {"颜色": [("白色", "white"), ("黑色", "black"), ("灰色", "grey"), ("粉色", "pink"), ("蓝色", "blue"),
                   ("米色", "beige"), ("绿色", "green")]}
_SIZE = {"尺码": [("S", "S"), ("M", "M"), ("L", "L"), ("XL", "XL")]}
_FLAVOR = {"口味": [("原味", "original"), ("麻辣", "spicy"), ("五香", "five spice"), ("海盐", "sea salt"),
                    ("蜂蜜", "honey")]}
_SKIN = {"功效": [("补水", "hydrating"), ("保湿", "moisturizing"), ("美白", "brightening"),
                  ("抗皱", "anti-wrinkle"), ("控油", "oil control")]}
_AUDIO = {"特性": [("降噪", "noise cancelling"), ("运动", "sports"), ("长续航", "long battery"),
                   ("低延迟", "low latency"), ("防水", "waterproof")]}

LEAVES: list[Leaf] = [
    (("家居", "床上用品", "抱枕"), "throw pillows",
     [("抱枕", "throw pillow"), ("靠枕", "cushion"), ("沙发抱枕", "sofa pillow")], {**_FABRIC, **_COLOR}, (19, 129)),
    (("家居", "床上用品", "枕头"), "bed pillows",
     [("枕头", "pillow"), ("护颈枕", "neck support pillow"), ("颈椎枕", "cervical pillow")], {**_FILL}, (39, 399)),
    (("母婴", "孕产用品", "孕妇枕"), "pregnancy pillows",
     [("孕妇抱枕", "pregnancy pillow"), ("孕妇枕", "maternity pillow"), ("侧睡枕", "side sleeper body pillow")],
     {**_FILL, **_COLOR}, (69, 299)),
    (("汽车用品", "汽车内饰", "汽车头枕"), "car neck pillows",
     [("汽车头枕", "car neck pillow"), ("车用护颈枕", "car headrest pillow"), ("汽车腰靠", "car lumbar cushion")],
     {**_FILL, **_COLOR}, (29, 199)),
    (("旅行用品", "旅行枕", "U型枕"), "travel pillows",
     [("U型枕", "travel neck pillow"), ("飞机枕", "airplane pillow")], {**_FILL}, (25, 159)),
    (("家居", "床上用品", "四件套"), "bedding sets",
     [("四件套", "bedding set"), ("床单被套", "duvet cover set")], {**_FABRIC, **_COLOR}, (99, 899)),
    (("家居", "床上用品", "被子"), "duvets",
     [("蚕丝被", "silk duvet"), ("羽绒被", "down comforter"), ("夏凉被", "summer quilt")], {**_FABRIC}, (129, 1299)),
    (("家居", "床上用品", "凉席"), "sleeping mats",
     [("凉席", "cooling mat"), ("冰丝凉席", "ice silk mat")], {**_COLOR}, (59, 399)),
    (("数码", "耳机", "蓝牙耳机"), "wireless earbuds",
     [("蓝牙耳机", "bluetooth earbuds"), ("无线耳机", "wireless earphones")], {**_AUDIO, **_COLOR}, (59, 1299)),
    (("数码", "耳机", "头戴式耳机"), "headphones",
     [("头戴式耳机", "over-ear headphones"), ("游戏耳机", "gaming headset")], {**_AUDIO, **_COLOR}, (99, 2999)),
    (("数码", "手机配件", "充电宝"), "power banks",
     [("充电宝", "power bank"), ("移动电源", "portable charger")], {**_COLOR}, (49, 299)),
    (("数码", "手机配件", "手机壳"), "phone cases",
     [("手机壳", "phone case"), ("防摔手机壳", "shockproof phone case")], {**_COLOR}, (9, 99)),
    (("数码", "手机配件", "数据线"), "charging cables",
     [("数据线", "charging cable"), ("快充线", "fast charging cable")], {**_COLOR}, (9, 69)),
    (("美妆", "护肤", "面霜"), "face creams",
     [("面霜", "face cream"), ("保湿霜", "moisturizer")], {**_SKIN}, (59, 999)),
    (("美妆", "护肤", "精华液"), "serums",
     [("精华液", "serum"), ("精华", "essence")], {**_SKIN}, (99, 1599)),
    (("美妆", "护肤", "面膜"), "face masks",
     [("面膜", "sheet mask"), ("涂抹面膜", "clay mask")], {**_SKIN}, (29, 299)),
    (("美妆", "护肤", "防晒霜"), "sunscreens",
     [("防晒霜", "sunscreen"), ("防晒喷雾", "sunscreen spray")], {**_SKIN}, (49, 299)),
    (("美妆", "护肤", "洗面奶"), "cleansers",
     [("洗面奶", "facial cleanser"), ("洁面乳", "foam cleanser")], {**_SKIN}, (29, 199)),
    (("美妆", "彩妆", "口红"), "lipsticks",
     [("口红", "lipstick"), ("唇釉", "lip gloss")], {**_COLOR}, (49, 399)),
    (("食品", "零食", "坚果"), "nuts",
     [("每日坚果", "mixed nuts"), ("碧根果", "pecans"), ("夏威夷果", "macadamia nuts")], {**_FLAVOR}, (19, 199)),
    (("食品", "零食", "肉干"), "jerky",
     [("牛肉干", "beef jerky"), ("猪肉脯", "pork jerky")], {**_FLAVOR}, (19, 159)),
    (("食品", "零食", "饼干"), "biscuits",
     [("饼干", "biscuits"), ("苏打饼干", "soda crackers")], {**_FLAVOR}, (9, 79)),
    (("食品", "零食", "辣条"), "spicy snacks",
     [("辣条", "spicy gluten strips"), ("素肉", "vegetarian jerky")], {**_FLAVOR}, (5, 49)),
    (("食品", "饮料", "茶叶"), "tea",
     [("绿茶", "green tea"), ("红茶", "black tea"), ("乌龙茶", "oolong tea")], {}, (39, 899)),
    (("食品", "饮料", "咖啡"), "coffee",
     [("咖啡豆", "coffee beans"), ("挂耳咖啡", "drip coffee"), ("速溶咖啡", "instant coffee")], {}, (29, 299)),
    (("服饰", "女装", "连衣裙"), "dresses",
     [("连衣裙", "dress"), ("碎花连衣裙", "floral dress")], {**_FABRIC, **_COLOR, **_SIZE}, (79, 699)),
    (("服饰", "男装", "卫衣"), "hoodies",
     [("卫衣", "hoodie"), ("连帽卫衣", "pullover hoodie")], {**_COLOR, **_SIZE}, (69, 499)),
    (("服饰", "外套", "羽绒服"), "down jackets",
     [("羽绒服", "down jacket"), ("轻薄羽绒服", "lightweight down jacket")], {**_COLOR, **_SIZE}, (199, 1999)),
    (("服饰", "裤子", "牛仔裤"), "jeans",
     [("牛仔裤", "jeans"), ("直筒牛仔裤", "straight jeans")], {**_COLOR, **_SIZE}, (79, 599)),
    (("鞋靴", "运动鞋", "跑步鞋"), "running shoes",
     [("跑步鞋", "running shoes"), ("运动鞋", "sneakers")], {**_COLOR, **_SIZE}, (129, 1299)),
    (("厨房", "水具", "保温杯"), "vacuum flasks",
     [("保温杯", "insulated bottle"), ("焖烧杯", "food jar")], {**_COLOR}, (39, 399)),
    (("家电", "厨房电器", "电饭煲"), "rice cookers",
     [("电饭煲", "rice cooker"), ("电饭锅", "multi cooker")], {**_COLOR}, (149, 1499)),
    (("家电", "厨房电器", "空气炸锅"), "air fryers",
     [("空气炸锅", "air fryer"), ("可视空气炸锅", "air fryer oven")], {**_COLOR}, (199, 999)),
    (("家电", "清洁电器", "扫地机器人"), "robot vacuums",
     [("扫地机器人", "robot vacuum"), ("扫拖一体机", "robot mop")], {**_COLOR}, (699, 4999)),
    (("宠物", "猫用品", "猫粮"), "cat food",
     [("猫粮", "cat food"), ("冻干猫粮", "freeze-dried cat food")], {**_FLAVOR}, (39, 399)),
    (("宠物", "狗用品", "狗粮"), "dog food",
     [("狗粮", "dog food"), ("幼犬粮", "puppy food")], {**_FLAVOR}, (39, 399)),
    (("母婴", "尿裤湿巾", "纸尿裤"), "diapers",
     [("纸尿裤", "diapers"), ("拉拉裤", "pull-up diapers")], {**_SIZE}, (59, 299)),
    (("运动", "健身", "瑜伽垫"), "yoga mats",
     [("瑜伽垫", "yoga mat"), ("健身垫", "exercise mat")], {**_COLOR}, (39, 299)),
]

ADJECTIVES = [("新款", "new"), ("加厚", "thick"), ("轻薄", "lightweight"), ("高端", "premium"),
              ("网红", "trending"), ("家用", "home"), ("便携", "portable"), ("ins风", "minimalist"),
              ("北欧", "nordic"), ("经典", "classic")]

SUFFIXES = [("官方正品", "official"), ("包邮", "free shipping"), ("限时特惠", "limited offer"),
            ("礼盒装", "gift box"), ("大容量", "large"), ("2026新品", "2026 model")]

BRAND_SYLLABLES = [
    ("棉", "mian"), ("语", "yu"), ("安", "an"), ("睡", "shui"), ("云", "yun"), ("朵", "duo"),
    ("星", "xing"), ("禾", "he"), ("木", "mu"), ("悦", "yue"), ("优", "you"), ("品", "pin"),
    ("嘉", "jia"), ("美", "mei"), ("萌", "meng"), ("乐", "le"), ("享", "xiang"), ("森", "sen"),
    ("川", "chuan"), ("蓝", "lan"), ("青", "qing"), ("极", "ji"), ("致", "zhi"), ("初", "chu"),
    ("雅", "ya"), ("风", "feng"), ("谷", "gu"), ("源", "yuan"), ("辰", "chen"), ("宜", "yi"),
]
