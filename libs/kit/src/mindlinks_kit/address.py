"""A postal address: the value a service keeps, the field types it accepts
(text shown to other parties; ``country`` ISO 3166-1 alpha-2, upper-cased) and
the wire models with an optional ``region`` (camelCase: ``postalCode``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, StringConstraints

from mindlinks_kit.schemas import ONE_LINE, ApiModel, from_attributes


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


Line = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE
]
City = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), ONE_LINE
]
PostalCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20), ONE_LINE
]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), BeforeValidator(_upper)]
"""ISO 3166-1 alpha-2."""


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None


class AddressIn(ApiModel):
    line1: Line
    line2: Line | None = None
    city: City
    region: City | None = None
    postal_code: PostalCode
    country: Country

    def value(self) -> Address:
        return from_attributes(Address, self)


class AddressOut(ApiModel):
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str

    @classmethod
    def of(cls, address: Address) -> AddressOut:
        return cls.model_validate(address, from_attributes=True)
