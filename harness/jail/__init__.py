"""The boundary between the grader and the learner's code.

codec.py: the plain data that crosses it (msgpack; arrays as dtype + shape + bytes; handles).
child.py: the learner's side, a jailed process holding their module and answering requests.
placeholder.py: sympy where it is absent (every learner process but a kata's symbolic tasks').
spawn.py: starting that process (bubblewrap where the machine has it) and ending its whole tree.
proxy.py: the grader's side, where the learner's module, objects and errors are seen as proxies.
Only codec.py, child.py and placeholder.py are ever inside the jail.
"""
