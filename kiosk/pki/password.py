"""TEMPORARY stand-in until the pki branch lands (replaced at merge)."""


def unmet_rules(pw: str) -> list[str]:
    out = []
    if len(pw) < 10:
        out.append("length")
    if not any(c.isascii() and c.isalpha() for c in pw):
        out.append("letter")
    if not any(c.isdigit() for c in pw):
        out.append("digit")
    if not any(not c.isalnum() for c in pw):
        out.append("special")
    if any(c in "'\"\\|" for c in pw):
        out.append("forbidden_char")
    if any(pw[i] == pw[i + 1] == pw[i + 2] for i in range(len(pw) - 2)):
        out.append("repeat")
    if any(abs(ord(pw[i + 1]) - ord(pw[i])) == 1 and ord(pw[i + 2]) - ord(pw[i + 1]) == ord(pw[i + 1]) - ord(pw[i])
           for i in range(len(pw) - 2)):
        out.append("sequence")
    return out
