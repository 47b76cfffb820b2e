"""Kinds of committee and roles of their members."""

COMMITTEE_KINDS: dict[str, str] = {
    "cdpd_pleniere": "CDPD – formation plénière",
    "cdpd_commission_teh": "CDPD – commission spécialisée prostitution et traite des êtres humains",
    "groupe_mineurs": "Groupe de travail sur les mineurs victimes de traite",
    "clav": "Comité local d'aide aux victimes (CLAV)",
    "codaf": "Comité opérationnel départemental anti-fraude (CODAF)",
    "copil": "Comité de pilotage (groupe permanent)",
    "autre": "Autre instance",
}

MEMBER_ROLES: dict[str, str] = {
    "president": "Président(e)",
    "vice_president": "Vice-président(e)",
    "membre": "Membre titulaire",
    "suppleant": "Membre suppléant",
    "secretariat": "Secrétariat",
    "invite_permanent": "Invité permanent",
}

# Members who count for the quorum.
VOTING_ROLES = frozenset({"president", "vice_president", "membre"})
