"""QR code alphanumeric-mode capacity (ISO/IEC 18004:2015 Table 7): pure data for the capacity planner."""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Final

from healthpass.errors import ErrorCode, IssueError, Stage

__all__ = [
    "DEFAULT_MAX_QR_VERSION",
    "MAX_QR_VERSION",
    "QR_ALPHANUMERIC_CAPACITY",
    "ErrorCorrection",
    "check_capacity",
    "version_for_length",
]

#: Largest QR version a code may need unless the caller chooses otherwise (77x77 modules): the one default
#: for the Issuer, the QR writers and the CLI.
DEFAULT_MAX_QR_VERSION: Final = 15
#: Largest QR version ISO/IEC 18004 defines (177x177 modules).
MAX_QR_VERSION: Final = 40


class ErrorCorrection(StrEnum):
    L = "L"
    M = "M"
    Q = "Q"
    H = "H"


_ROWS = (  # version: L, M, Q, H (alphanumeric characters)
    (25, 20, 16, 10), (47, 38, 29, 20), (77, 61, 47, 35), (114, 90, 67, 50), (154, 122, 87, 64),
    (195, 154, 108, 84), (224, 178, 125, 93), (279, 221, 157, 122), (335, 262, 189, 143),
    (395, 311, 221, 174), (468, 366, 259, 200), (535, 419, 296, 227), (619, 483, 352, 259),
    (667, 528, 376, 283), (758, 600, 426, 321), (854, 656, 470, 365), (938, 734, 531, 408),
    (1046, 816, 574, 452), (1153, 909, 644, 493), (1249, 970, 702, 557), (1352, 1035, 742, 587),
    (1460, 1134, 823, 640), (1588, 1248, 890, 672), (1704, 1326, 963, 744), (1853, 1451, 1041, 779),
    (1990, 1542, 1094, 864), (2132, 1637, 1172, 910), (2223, 1732, 1263, 958), (2369, 1839, 1322, 1016),
    (2520, 1994, 1429, 1080), (2677, 2113, 1499, 1150), (2840, 2238, 1618, 1226), (3009, 2369, 1700, 1307),
    (3183, 2506, 1787, 1394), (3351, 2632, 1867, 1431), (3537, 2780, 1966, 1530), (3729, 2894, 2071, 1591),
    (3927, 3054, 2181, 1658), (4087, 3220, 2298, 1774), (4296, 3391, 2420, 1852),
)

#: Characters an alphanumeric-mode symbol holds, per error-correction level, indexed by version - 1.
QR_ALPHANUMERIC_CAPACITY: MappingProxyType[ErrorCorrection, tuple[int, ...]] = MappingProxyType(
    {level: tuple(row[i] for row in _ROWS) for i, level in enumerate(ErrorCorrection)}
)


def version_for_length(length: int, error_correction: ErrorCorrection = ErrorCorrection.M) -> int | None:
    """The smallest QR version holding ``length`` alphanumeric characters; None when even 40 cannot."""
    level = error_correction if type(error_correction) is ErrorCorrection else ErrorCorrection(error_correction)
    for version, capacity in enumerate(QR_ALPHANUMERIC_CAPACITY[level], start=1):
        if length <= capacity:
            return version
    return None


def check_capacity(
    length: int,
    *,
    max_version: int = DEFAULT_MAX_QR_VERSION,
    error_correction: ErrorCorrection = ErrorCorrection.M,
    margin: int = 0,
) -> int:
    """The QR version ``length`` (+ ``margin``) characters need; IssueError(``too_large_for_qr``) above
    ``max_version``. Large symbols have small modules at a given printed size and scan badly on phone
    cameras, so issuers refuse them rather than print them (codes are never split over several symbols)."""
    if not 1 <= max_version <= MAX_QR_VERSION:
        raise ValueError(f"max_version must be between 1 and {MAX_QR_VERSION}, not {max_version}")
    ec = error_correction if type(error_correction) is ErrorCorrection else ErrorCorrection(error_correction)
    needed = length + margin
    version = version_for_length(needed, ec)
    if version is None or version > max_version:
        capacity = QR_ALPHANUMERIC_CAPACITY[ec][max_version - 1]
        margin_text = f" (+{margin} margin)" if margin else ""
        raise IssueError(
            ErrorCode.TOO_LARGE_FOR_QR,
            Stage.ISSUE,
            f"a code of {length} characters{margin_text} needs QR version {version or '>40'} at error correction "
            f"{ec.value}, above the maximum version {max_version}, which holds {capacity}; shorten the payload "
            "or lower the error correction",
        )
    return version
