"""Text search in queries."""


def like(text: str) -> str:
    return "%" + text.replace("%", "").replace("_", "") + "%"
