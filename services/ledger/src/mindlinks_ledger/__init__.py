"""Mind-Links ledger: the verifiable journal that replaces QLDB."""
