"""GB/T 2260 administrative division codes, with the province-level table and ISO 3166-2:CN aliases.

A code has six digits: two for the province-level division, two for the prefecture level, two for the
county level (``630000`` Qinghai, ``630100`` Xining, ``630102`` a district of Xining). A region *covers*
every code beneath it: a province covers all codes sharing its first two digits, a prefecture all codes
sharing its first four.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType

__all__ = ["PROVINCES", "Province", "Region", "RegionLevel", "as_region", "as_regions"]


@dataclass(frozen=True, slots=True)
class Province:
    """A province-level division: its code, ISO 3166-2:CN code, and names."""

    code: str
    iso: str
    name_zh: str
    name_en: str


_TABLE = (
    ("110000", "CN-BJ", "北京市", "Beijing"),
    ("120000", "CN-TJ", "天津市", "Tianjin"),
    ("130000", "CN-HE", "河北省", "Hebei"),
    ("140000", "CN-SX", "山西省", "Shanxi"),
    ("150000", "CN-NM", "内蒙古自治区", "Inner Mongolia"),
    ("210000", "CN-LN", "辽宁省", "Liaoning"),
    ("220000", "CN-JL", "吉林省", "Jilin"),
    ("230000", "CN-HL", "黑龙江省", "Heilongjiang"),
    ("310000", "CN-SH", "上海市", "Shanghai"),
    ("320000", "CN-JS", "江苏省", "Jiangsu"),
    ("330000", "CN-ZJ", "浙江省", "Zhejiang"),
    ("340000", "CN-AH", "安徽省", "Anhui"),
    ("350000", "CN-FJ", "福建省", "Fujian"),
    ("360000", "CN-JX", "江西省", "Jiangxi"),
    ("370000", "CN-SD", "山东省", "Shandong"),
    ("410000", "CN-HA", "河南省", "Henan"),
    ("420000", "CN-HB", "湖北省", "Hubei"),
    ("430000", "CN-HN", "湖南省", "Hunan"),
    ("440000", "CN-GD", "广东省", "Guangdong"),
    ("450000", "CN-GX", "广西壮族自治区", "Guangxi"),
    ("460000", "CN-HI", "海南省", "Hainan"),
    ("500000", "CN-CQ", "重庆市", "Chongqing"),
    ("510000", "CN-SC", "四川省", "Sichuan"),
    ("520000", "CN-GZ", "贵州省", "Guizhou"),
    ("530000", "CN-YN", "云南省", "Yunnan"),
    ("540000", "CN-XZ", "西藏自治区", "Xizang (Tibet)"),
    ("610000", "CN-SN", "陕西省", "Shaanxi"),
    ("620000", "CN-GS", "甘肃省", "Gansu"),
    ("630000", "CN-QH", "青海省", "Qinghai"),
    ("640000", "CN-NX", "宁夏回族自治区", "Ningxia"),
    ("650000", "CN-XJ", "新疆维吾尔自治区", "Xinjiang"),
    ("710000", "CN-TW", "台湾省", "Taiwan"),
    ("810000", "CN-HK", "香港特别行政区", "Hong Kong"),
    ("820000", "CN-MO", "澳门特别行政区", "Macao"),
)

#: Province-level divisions by their two-digit prefix.
PROVINCES: MappingProxyType[str, Province] = MappingProxyType(
    {code[:2]: Province(code, iso, zh, en) for code, iso, zh, en in _TABLE}
)
_BY_ISO = MappingProxyType({p.iso: p for p in PROVINCES.values()})


def _iso_to_code(text: str) -> str:
    """The six-digit code of an ISO 3166-2:CN province code (``CN-QH``, ``cn-qh``, ``CN-63``)."""
    upper = text.upper()
    province = _BY_ISO.get(upper)
    if province is not None:
        return province.code
    if upper.startswith("CN-") and len(upper) == 5 and upper[3:].isascii() and upper[3:].isdigit():
        return upper[3:] + "0000"
    raise ValueError("a region code is six ASCII digits or an ISO 3166-2:CN code such as CN-QH")


class RegionLevel(IntEnum):
    PROVINCE = 1
    PREFECTURE = 2
    COUNTY = 3


@dataclass(frozen=True, slots=True, order=True)
class Region:
    """A GB/T 2260 six-digit code whose first two digits name a known province-level division.

    ``Region("630000")``; an ISO 3166-2:CN province code is accepted too and stored as its six-digit code
    (``Region("CN-QH") == Region("630000")``, also ``CN-63``). Raises TypeError when ``code`` is not a str,
    ValueError when it names no known division.
    """

    code: str

    def __post_init__(self) -> None:
        code = self.code
        if not (isinstance(code, str) and len(code) == 6 and code.isascii() and code.isdigit()):
            if not isinstance(code, str):
                raise TypeError(f"a region code is a str, not {type(code).__name__} (Region.from_int takes an int)")
            code = _iso_to_code(code)
            object.__setattr__(self, "code", code)
        if code[:2] not in PROVINCES:
            raise ValueError(f"region code {code} names no province-level division")
        if code[2:4] == "00" and code[4:] != "00":
            raise ValueError(f"region code {code} has a county part under no prefecture")

    @classmethod
    def parse(cls, text: str) -> Region:
        """A six-digit code, or an ISO 3166-2:CN province code (``CN-QH``, also ``CN-63``), surrounding
        white space ignored. Raises TypeError when ``text`` is not a str, ValueError when it is no region."""
        if not isinstance(text, str):
            raise TypeError(f"a region code is a str, not {type(text).__name__}")
        return cls(text.strip())

    @classmethod
    def from_int(cls, value: int) -> Region:
        if type(value) is not int or not 100000 <= value <= 999999:
            raise ValueError("a region code is a six-digit integer")
        return cls(str(value))

    def __int__(self) -> int:
        return int(self.code)

    @property
    def level(self) -> RegionLevel:
        if self.code[2:] == "0000":
            return RegionLevel.PROVINCE
        if self.code[4:] == "00":
            return RegionLevel.PREFECTURE
        return RegionLevel.COUNTY

    @property
    def province(self) -> Province:
        return PROVINCES[self.code[:2]]

    def covers(self, other: Region | str) -> bool:
        """Whether ``other`` (a Region or a code string) is this region or lies beneath it."""
        if type(other) is not Region:
            other = as_region(other, "other")
        level = self.level
        if level is RegionLevel.PROVINCE:
            return other.code[:2] == self.code[:2]
        if level is RegionLevel.PREFECTURE:
            return other.code[:4] == self.code[:4]
        return other.code == self.code

    def describe(self) -> dict[str, str]:
        """The code, and for province-level codes the province's names in Chinese and English."""
        out = {"code": self.code}
        if self.level is RegionLevel.PROVINCE:
            out["name_zh"] = self.province.name_zh
            out["name_en"] = self.province.name_en
        return out

    def __str__(self) -> str:
        return self.code


def as_region(value: Region | str, name: str) -> Region:
    """``value`` as a :class:`Region`: a Region as it is, a code string parsed (six digits or ``CN-XX``).

    For every API parameter that takes a region. Raises TypeError naming ``name`` for any other type,
    ValueError naming it for a string that is no region code.
    """
    if isinstance(value, Region):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a Region or a region code string, not {type(value).__name__}")
    try:
        return Region.parse(value)
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None


def as_regions(values: Iterable[Region | str], name: str) -> frozenset[Region]:
    """A set of regions from an iterable of :class:`Region` values or code strings (see :func:`as_region`).
    A bare string is refused with TypeError (it would be read character by character)."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be an iterable of regions (e.g. [\"630000\", \"CN-BJ\"]), "
                        f"not {type(values).__name__}")
    return frozenset(as_region(value, f"{name}[{i}]") for i, value in enumerate(values))
