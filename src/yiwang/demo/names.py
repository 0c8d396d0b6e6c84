"""Invented names for demo persons: common surnames of the region and given-name characters.
No name here belongs to a real person in the article or the town."""

SURNAMES = list("王李张刘杨赵高郝郭白马韩乔贺温苏呼奇乌巴朝额包宝云孟任田武")
GIVEN = list("春秋志建国军华明亮英兰梅芳霞丽娟红玉凤荣桂珍海林峰涛强平安福顺旺达成文德胜利和兴泉根宝")
MONGOLIAN = ["巴特尔", "苏和", "其木格", "乌云", "额尔敦", "斯琴", "朝鲁", "那日苏", "萨仁", "图雅", "阿拉坦", "格日勒"]
