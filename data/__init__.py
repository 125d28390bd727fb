"""paracrine.data"""
