"""The notation grammar (symcount.lark), installed as the package symcount.grammar."""
