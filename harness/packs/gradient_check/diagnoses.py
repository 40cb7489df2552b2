"""placeholder"""
def numerical(*a): return None
def relative(*a): return None
def flat_index(*a): return None
def grad_check(*a): return None
def find(*a): return None
def learners_checks(*a): return ""
