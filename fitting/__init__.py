"""paracrine.fitting"""
