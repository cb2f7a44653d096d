"""The PBX side: the AMI connection (`ami`), its wire format (`frames`), stream recordings."""
