# placeholder until filled
