"""paracrine.simulations"""
